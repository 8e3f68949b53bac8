"""Rule rotation_reference: the training people's activation pattern, each person aligned onto it (their shifts
kept), turned to the majority's orientation: what test-time alignment aligns to and canon arms train in."""

from script_setup import start

start(snakemake)

from pathlib import Path  # noqa: E402

from emgcore.data.store import store_filename  # noqa: E402
from emgcore.rotation.alignment import reference_pattern  # noqa: E402

subjects = snakemake.params.train_subjects
paths = [Path(snakemake.input.store) / store_filename(s) for s in subjects]
reference = reference_pattern(paths, canonical=True, people=subjects)  # sharp, in the majority's orientation
reference.save(snakemake.output[0])
print(f"{reference.n_people} training people; pattern {reference.pattern.round(3)}; contrast {reference.contrast:.3f}")
print("their shifts:", dict(zip(subjects, [round(s, 2) for s in reference.person_shifts])))
