"""Training on TRL (GRPO, SFT) and the data pipeline that feeds it."""
