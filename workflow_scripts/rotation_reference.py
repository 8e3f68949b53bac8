"""Rule rotation_reference: the training people's mean activation pattern, what test-time alignment aligns to."""

from script_setup import start

start(snakemake)

from pathlib import Path  # noqa: E402

from emgcore.data.store import store_filename  # noqa: E402
from emgcore.rotation.alignment import reference_pattern  # noqa: E402

subjects = snakemake.params.train_subjects
reference = reference_pattern(Path(snakemake.input.store) / store_filename(s) for s in subjects)
reference.save(snakemake.output[0])
print(f"{reference.n_people} training people; pattern {reference.pattern.round(3)}; contrast {reference.contrast:.3f}")
