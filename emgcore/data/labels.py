"""Gesture names and label codes shared by every reader, variant and metric."""

GESTURES = ("noGesture", "fist", "waveIn", "waveOut", "open", "pinch")
LABEL_OF = {name: code for code, name in enumerate(GESTURES)}
REST = LABEL_OF["noGesture"]
PINCH = LABEL_OF["pinch"]
#: classes used for windows, training and evaluation (pinch is stored, never used)
USED_CLASSES = (0, 1, 2, 3, 4)
N_CLASSES = len(USED_CLASSES)
N_CHANNELS = 8
FS_HZ = 200
