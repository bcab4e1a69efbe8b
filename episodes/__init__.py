"""The data layer: episodes on disk, below training and evaluation.

The record and its reader (import only `actions`):

- `episodes.step.Step` — one step of an episode, the record type that crosses packages;
- `episodes.records.read_record` — read one step record (raw step file or converted JSONL line) and
  return a `StepRecord`: the raw JSON, every `Problem` found, and the typed `Step` when valid;
- `episodes.readers` — list episodes in the seed's order, `iter_step_records`, `iter_steps`,
  `read_steps`;
- `episodes.validate.validate` — every problem of a folder or file (`phone-r1 data validate`);
- `episodes.images.ImageSizes` — screenshot sizes from image headers, read once per image;

what makes and summarises episodes:

- `episodes.importers` — public GUI-agent benchmarks to raw episodes (`phone-r1 data import`);
- `episodes.synth` — synthetic episodes drawn with Pillow (`phone-r1 data synth`);
- `episodes.stats` — counts per action type, app, episode length, screen size (`phone-r1 data stats`);

and the exports that embed the phone-r1 prompt (`agent.prompt`): `episodes.convert` (the seed's
JSONL) and `episodes.verl` (veRL parquet plus its reward file). `episodes.cli` is `phone-r1 data`.
"""
