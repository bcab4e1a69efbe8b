"""Episodes on disk: the `Step` record and the one reader of step records.

The layer agent, training, eval and ui all sit on (it imports only `actions`):

- `episodes.step.Step` — one step of an episode, the record type that crosses packages;
- `episodes.records.read_record` — read one step record (raw step file or converted JSONL line) and
  return a `StepRecord`: the raw JSON, every `Problem` found, and the typed `Step` when valid;
- `episodes.readers` — list episodes in the seed's order, `iter_step_records`, `iter_steps`,
  `read_steps`;
- `episodes.validate.validate` — every problem of a folder or file (`phone-r1 data validate`);
- `episodes.images.ImageSizes` — screenshot sizes from image headers, read once per image;
"""
