"""Image accounting in GRPO: images, prompt placeholders and image_grid_thw rows agree, or the run stops."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.helpers.tiny import JudgeServer, write_episodes
from tests.test_training_grpo import grpo_args
from training.image_accounting import (
    TOKENS_MAX,
    TOKENS_MEAN,
    ImageAccountingError,
    check_inputs,
    check_processed,
)
from training.run import build_dataset_for, build_trainer, plan

IMAGE, START, PAD = 7, 5, 0


def prompt(images: int) -> list[dict]:
    parts = [{"type": "text", "text": "step"}] + [{"type": "image"} for _ in range(images)]
    return [
        {"role": "system", "content": [{"type": "text", "text": "s"}]},
        {"role": "user", "content": parts},
    ]


def ids(*images_tokens: int, pad: int = 3) -> list[int]:
    """Prompt ids: left padding, then per image <vision_start> and its image tokens."""
    row = [PAD] * pad
    for tokens in images_tokens:
        row += [START] + [IMAGE] * tokens + [9]
    return row + [1, 2]


def batch(*rows: list[int]) -> torch.Tensor:
    width = max(len(r) for r in rows)
    return torch.tensor([[PAD] * (width - len(r)) + r for r in rows])


def processed(counts, prompt_ids, grid, num_images):
    return check_processed(
        counts, prompt_ids, grid, num_images, image_token_id=IMAGE, vision_start_id=START, merge_size=2
    )


# One first step (one screen) and one later step (two screens) in the same batch.
MIXED = [
    {"step_id": "1/0", "prompt": prompt(1), "images": ["a"]},
    {"step_id": "1/1", "prompt": prompt(2), "images": ["a", "b"]},
]
# Grids (t, h, w): 1x4x6 gives 24/4 = 6 tokens, 1x4x4 gives 4.
GRID = torch.tensor([[1, 4, 6], [1, 4, 6], [1, 4, 4]])


def test_mixed_batch_counts_images_placeholders_rows_and_tokens():
    counts = check_inputs(MIXED)
    assert [(c.images, c.placeholders) for c in counts] == [(1, 1), (2, 2)]
    checked = processed(counts, batch(ids(6), ids(6, 4)), GRID, [1, 2])
    assert [(c.grid_rows, c.image_tokens, c.expected_tokens) for c in checked] == [(1, 6, 6), (2, 10, 10)]


def test_sample_with_more_images_than_placeholders_names_its_step():
    broken = [MIXED[0], {"step_id": "7/3", "prompt": prompt(1), "images": ["a", "b"]}]
    with pytest.raises(
        ImageAccountingError, match=r"step 7/3: .*images 2, placeholders 1, image_grid_thw rows -"
    ):
        check_inputs(broken)


def test_grid_rows_that_do_not_add_up_stop_the_batch():
    counts = check_inputs(MIXED)
    with pytest.raises(ImageAccountingError, match=r"3 images in 2 samples, but image_grid_thw has 2 rows"):
        processed(counts, batch(ids(6), ids(6, 4)), GRID[:2], [1, 1])


def test_truncated_image_tokens_are_caught_with_the_step_id():
    counts = check_inputs(MIXED)
    # The second prompt lost two of its image tokens (a prompt cut at a length limit).
    with pytest.raises(ImageAccountingError, match=r"step 1/1: .*image tokens 8 \(grids give 10\)"):
        processed(counts, batch(ids(6), ids(6, 2)), GRID, [1, 2])


def test_images_shifted_to_the_next_prompt_are_caught():
    counts = check_inputs(MIXED)
    # The grids were split 2 + 1 instead of 1 + 2: the first prompt got the second prompt's screen.
    with pytest.raises(ImageAccountingError, match=r"step 1/0: the processor produced a different number"):
        processed(counts, batch(ids(6), ids(6, 4)), GRID, [2, 1])


def test_tiles_without_grids_are_checked_against_the_processors_count():
    """InternVL: no image_grid_thw; each picture is <img>, its tiles' tokens, </img>, as many as the
    processor counts for its size."""
    counts = check_inputs(MIXED)
    token_ids = [IMAGE, START, 8]  # context token, <img>, </img>

    def tiles(*tokens):
        return [PAD] + [t for n in tokens for t in [START] + [IMAGE] * n + [8]] + [1]

    prompt_ids = batch(tiles(6), tiles(6, 4))
    expected = [8, 8 + 6]  # 6 + 2 and (6 + 2) + (4 + 2)
    checked = check_processed(
        counts,
        prompt_ids,
        None,
        [1, 2],
        image_token_id=IMAGE,
        vision_start_id=START,
        merge_size=1,
        expected=expected,
        image_token_ids=token_ids,
    )
    assert [(c.placeholders, c.image_tokens, c.expected_tokens) for c in checked] == [(1, 8, 8), (2, 14, 14)]
    with pytest.raises(ImageAccountingError, match=r"step 1/1: .*image tokens 12 \(processor counts 14\)"):
        check_processed(
            counts,
            batch(tiles(6), tiles(6, 2)),
            None,
            [1, 2],
            image_token_id=IMAGE,
            vision_start_id=START,
            merge_size=1,
            expected=expected,
            image_token_ids=token_ids,
        )


def test_grids_disagreeing_with_the_processors_count_stop_the_batch():
    counts = check_inputs(MIXED)
    with pytest.raises(
        ImageAccountingError, match=r"step 1/1: its image grids give 10 .* processor counts 12"
    ):
        check_processed(
            counts,
            batch(ids(6), ids(6, 4)),
            GRID,
            [1, 2],
            image_token_id=IMAGE,
            vision_start_id=START,
            merge_size=2,
            expected=[6, 12],
        )


@pytest.fixture(scope="module")
def judge():
    with JudgeServer() as server:
        yield server


@pytest.fixture(scope="module")
def mixed_steps(tmp_path_factory) -> Path:
    # One episode of two steps: a one-screen first step and a two-screen second step.
    return write_episodes(tmp_path_factory.mktemp("mixed"), n_episodes=1, steps=2, single_first=True)


def _mixed_plan(out: Path, data: Path, judge: JudgeServer):
    # 4 completions per device with 2 generations: both prompts are in every batch.
    return plan(
        "grpo",
        grpo_args(
            out, data, judge, "--max_steps", "1", "--per_device_train_batch_size", "4", "--save_steps", "100"
        ),
    )


@pytest.mark.slow
def test_grpo_logs_image_tokens_of_a_mixed_batch(tmp_path, mixed_steps, judge):
    torch.set_num_threads(2)
    trainer = build_trainer(_mixed_plan(tmp_path / "run", mixed_steps, judge))
    trainer.train()
    logged = next(e for e in trainer.state.log_history if TOKENS_MEAN in e)
    # Two-screen prompts carry twice the image tokens of one-screen prompts, so max > mean > 0.
    assert logged[TOKENS_MAX] > logged[TOKENS_MEAN] > 0, logged


@pytest.mark.slow
def test_a_broken_sample_stops_training_with_its_step_id(tmp_path, mixed_steps, judge):
    from training.dataset import materialize

    plan_ = _mixed_plan(tmp_path / "run", mixed_steps, judge)
    dataset = build_dataset_for(plan_)

    def drop_a_placeholder(rows):
        out = materialize(rows)
        for step_id, messages in zip(out["step_id"], out["prompt"], strict=True):
            if step_id == "100/1":
                user = messages[-1]["content"]
                user.remove(next(p for p in user if p["type"] == "image"))
        return out

    dataset.set_transform(drop_a_placeholder)
    trainer = build_trainer(plan_, dataset)
    with pytest.raises(ImageAccountingError, match=r"step 100/1: .*images 2, placeholders 1"):
        trainer.train()
