"""Hand-made users in the EMG-EPN-612 JSON layout, for reader and ingestion tests."""

import orjson

GESTS = ["noGesture", "fist", "waveIn", "waveOut", "open", "pinch"]


def make_sample(rng, gesture, n=60, labelled=True, gt=(20, 45)):
    """One hand-made sample with the noisy extra fields the real files carry."""
    s = {
        "emg": {f"ch{c}": rng.integers(-128, 128, n).tolist() for c in range(1, 9)},
        "myoDetection": [65535, 0, 65535],
        "quaternion": {"w": [0.1, 0.2], "x": [0.0, 0.0], "y": [0.0, 0.0], "z": [1.0, 1.0]},
        "gyro": {"x": [1, 2], "y": [3, 4], "z": [5, 6]},
        "startPointforGestureExecution": 7,
    }
    if labelled:
        s["gestureName"] = gesture
        if gesture != "noGesture":
            mask = [0] * n
            for i in range(*gt):
                mask[i] = 1
            s["groundTruth"] = mask
            s["groundTruthIndex"] = [gt[0] + 1, gt[1]]
    return s


def make_user(rng, testing=False, reps=2, n=60):
    def block(labelled):
        samples, k = {}, 1
        for g in GESTS:
            for _ in range(reps):
                samples[f"idx_{k}"] = make_sample(rng, g, n, labelled)
                k += 1
        return samples

    return {
        "userInfo": {"name": "x", "age": 30},
        "generalInfo": {"samplingFrequencyInHertz": 200},
        "synchronizationGesture": {"samples": {"idx_1": {"emg": {"ch1": [1]}}}},
        "trainingSamples": block(True),
        "testingSamples": block(not testing),
    }


def write_json(path, doc):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(doc))
    return path
