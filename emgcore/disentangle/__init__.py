"""Disentangling pattern-specific from subject-specific EMG components (Hyser HD-sEMG and EPN-612 layout)."""
