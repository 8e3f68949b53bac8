"""Writer of the EMG-EPN-612 JSON layout, shared by the synthetic generator and the CIIL converter.

One file per user: ``<out>/trainingJSON/userN/userN.json`` or ``<out>/testingJSON/userN/userN.json``
with ``userInfo``, ``generalInfo``, ``synchronizationGesture``, ``trainingSamples`` and
``testingSamples`` (dicts keyed ``idx_1``, ``idx_2``, ...), as in the public dataset.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import orjson

from emgcore.data.labels import FS_HZ, GESTURES, N_CHANNELS
from emgcore.io import write_atomic

GROUP_FOLDERS = {"training": "trainingJSON", "testing": "testingJSON"}
#: value the Myo uses in ``myoDetection`` when it recognises no pose
MYO_UNKNOWN_POSE = 65535
#: Myo's own pose codes for the EPN gestures (rest, fist, waveIn, waveOut, fingersSpread, doubleTap)
MYO_POSE_OF = dict(zip(GESTURES, (0, 1, 2, 3, 4, 5)))
#: EMG samples per IMU / myoDetection value; the real Myo streams these at 50 Hz, here kept short
IMU_DECIMATION = 20


def user_json_path(out_dir: str | Path, group: str, number: int) -> Path:
    """Path of user ``number`` (1-based) of ``group`` ('training' or 'testing') under ``out_dir``."""
    if group not in GROUP_FOLDERS:
        raise ValueError(f"group={group!r}: expected one of {sorted(GROUP_FOLDERS)}")
    if number < 1:
        raise ValueError(f"user number {number}: expected 1 or more (EPN-612 numbers users from 1)")
    return Path(out_dir) / GROUP_FOLDERS[group] / f"user{number}" / f"user{number}.json"


def build_sample(
    emg: np.ndarray,
    gesture_name: str,
    activity: tuple[int, int] | None,
    labelled: bool = True,
) -> dict:
    """One EPN-612 sample dict from an int8 (T, 8) array.

    ``activity`` is the 0-based inclusive [first, last] span of the gesture (None for noGesture).
    Labelled samples carry ``gestureName`` and, for active gestures, ``groundTruth`` (0/1 per sample)
    and 1-based ``groundTruthIndex``. Unlabelled ones (testing users' testingSamples) carry nothing
    derived from the label or the activity: no gestureName/groundTruth, a start point of 1 and an
    all-unknown ``myoDetection``.
    """
    emg = np.asarray(emg)
    if emg.dtype != np.int8 or emg.ndim != 2 or emg.shape[1] != N_CHANNELS or emg.shape[0] == 0:
        raise ValueError(f"emg: expected an int8 array of shape (T>0, {N_CHANNELS}), got {emg.dtype} {emg.shape}")
    if gesture_name not in GESTURES:
        raise ValueError(f"gesture_name={gesture_name!r}: expected one of {GESTURES}")
    n_samples = emg.shape[0]
    is_active = gesture_name != "noGesture"
    if is_active != (activity is not None):
        raise ValueError(
            f"activity={activity!r} for {gesture_name}: expected a [first, last] span for active "
            "gestures and None for noGesture"
        )
    if activity is not None and not 0 <= activity[0] <= activity[1] < n_samples:
        raise ValueError(f"activity={activity!r}: expected 0 <= first <= last < {n_samples}")
    channels = np.ascontiguousarray(emg.T)
    known = activity if labelled else None
    sample = {
        "startPointforGestureExecution": int(known[0]) + 1 if known else 1,
        "myoDetection": _myo_detection(n_samples, gesture_name, known),
        **_imu_streams(n_samples),
        "emg": {f"ch{k + 1}": channels[k] for k in range(N_CHANNELS)},
    }
    if labelled:
        sample["gestureName"] = gesture_name
        if activity is not None:
            ground_truth = np.zeros(n_samples, dtype=np.uint8)
            ground_truth[activity[0] : activity[1] + 1] = 1
            sample["groundTruth"] = ground_truth
            sample["groundTruthIndex"] = [int(activity[0]) + 1, int(activity[1]) + 1]
    return sample


def _myo_detection(n_samples: int, gesture_name: str, activity: tuple[int, int] | None) -> np.ndarray:
    """Myo pose stream at 1/IMU_DECIMATION of the EMG rate: unknown pose except during the activity."""
    n_values = -(-n_samples // IMU_DECIMATION)
    detection = np.full(n_values, MYO_UNKNOWN_POSE, dtype=np.int64)
    if activity is not None:
        detection[activity[0] // IMU_DECIMATION : activity[1] // IMU_DECIMATION + 1] = MYO_POSE_OF[gesture_name]
    return detection


def _imu_streams(n_samples: int) -> dict:
    """Quaternion, gyroscope and accelerometer streams of an arm held still (readers ignore them)."""
    n_values = -(-n_samples // IMU_DECIMATION)
    zeros = np.zeros(n_values)
    return {
        "quaternion": {"w": np.ones(n_values), "x": zeros, "y": zeros, "z": zeros},
        "gyro": {"x": zeros, "y": zeros, "z": zeros},
        "accelerometer": {"x": zeros, "y": zeros, "z": -np.ones(n_values)},
    }


def indexed(samples: Sequence[dict]) -> dict:
    """Samples as the dataset stores them: a dict keyed ``idx_1``, ``idx_2``, ... in order."""
    return {f"idx_{k}": sample for k, sample in enumerate(samples, start=1)}


def build_user_document(
    user_name: str,
    training_samples: Sequence[dict],
    testing_samples: Sequence[dict],
    user_info: dict | None = None,
    sync_samples: Sequence[dict] = (),
    recording_time_s: float = 5,
) -> dict:
    """The whole JSON document of one user, with the top-level keys of the public dataset."""
    info = {"name": user_name, "handedness": "right", **(user_info or {})}
    return {
        "userInfo": info,
        "generalInfo": {
            "deviceModel": "myo",
            "samplingFrequencyInHertz": FS_HZ,
            "recordingTimeInSeconds": int(math.ceil(recording_time_s)),
            "repetitionsForSynchronizationGesture": len(sync_samples),
            "myoPredictionLabel": MYO_POSE_OF,
        },
        "synchronizationGesture": {"samples": indexed(sync_samples)},
        "trainingSamples": indexed(training_samples),
        "testingSamples": indexed(testing_samples),
    }


def write_json_atomic(path: str | Path, document: dict) -> Path:
    """Serialise with orjson (numpy arrays as plain lists) to a temp file beside ``path``, then rename."""
    payload = orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY)
    return write_atomic(path, lambda tmp: Path(tmp).write_bytes(payload))
