"""Armband rotation: ring shifts for augmentation, test-time alignment, stream order, the rotation experiment.

The Myo's 8 electrodes sit on a ring around the forearm; putting the armband on again turns the
ring, so a person's channel c may see what another person's channel c + k sees. One module per job:
``augment`` (circular shifts of the ring, whole and fractional; the rotation-equivariant model,
whose logits do not change under whole-electrode shifts, is ``emgcore.models.mhcnn_eq``, registered
as ``mhcnn_eq``), ``alignment`` (calibration-free estimate of a
new person's shift from their unlabelled stream) and ``stream_order`` (the evaluation stream a
streaming method sees).
"""
