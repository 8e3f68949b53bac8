"""emgcore: library behind the cross-user EMG gesture-recognition benchmark."""
