"""`phone-r1 data ...` end to end through the real argument parser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from phone_r1.cli import main
from tests.helpers.data import make_raw_folder, rewrite_step

REPO = Path(__file__).resolve().parents[1]


def test_validate_exit_status_and_messages(tmp_path: Path, capsys) -> None:
    root = make_raw_folder(tmp_path / "raw", {"1": 3})
    assert main(["data", "validate", str(root)]) == 0
    rewrite_step(root / "1" / "step_2.json", lambda r: r["output"].update(action_type="fly"))
    capsys.readouterr()
    assert main(["data", "validate", str(root)]) == 2
    out = capsys.readouterr().out
    assert "step_2.json:" in out and "[unknown_action_type]" in out and "'fly'" in out


def test_convert_stops_or_skips(tmp_path: Path, capsys) -> None:
    root = make_raw_folder(tmp_path / "raw", {"1": 3})
    (root / "1" / "1_2.jpg").unlink()
    out = tmp_path / "o.jsonl"
    assert main(["data", "convert", str(root), "-o", str(out)]) == 2
    assert "[missing_image]" in capsys.readouterr().err and not out.exists()
    assert main(["data", "convert", str(root), "-o", str(out), "--skip-invalid"]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2
    rejects = [
        json.loads(line)
        for line in (tmp_path / "o.jsonl.rejects.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert [Path(r["path"]).name for r in rejects] == ["step_2.json"]


def test_stats_json(tmp_path: Path, capsys) -> None:
    root = make_raw_folder(tmp_path / "raw")
    (root / "9" / "9_1.jpg").unlink()
    capsys.readouterr()
    assert main(["data", "stats", str(root), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["steps"] == 10 and stats["episodes"] == 3
    assert len(stats["action_types"]) == 10 and stats["apps"] == {"设置": 10}
    assert stats["steps_per_episode"]["histogram"] == {"3": 2, "4": 1}
    assert stats["images_missing"] == 1 and stats["screen_sizes"] == {"120x240": 9}
    assert main(["data", "stats", str(root)]) == 0
    assert "long_click" in capsys.readouterr().out


def test_committed_demo_episodes_are_valid(capsys) -> None:
    for split in ("train", "test"):
        assert main(["data", "validate", str(REPO / "data" / "demo" / split)]) == 0
    assert main(["data", "stats", "--json", str(REPO / "data" / "demo" / "train")]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert len(stats["action_types"]) == 10 and stats["images_missing"] == 0


def test_export_verl_takes_settings_from_a_checkpoint(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from agent.checkpoint import CheckpointMeta

    root = make_raw_folder(tmp_path / "raw", {"1": 2})
    CheckpointMeta(coord_space="norm1000", max_pixels=200_000, prompt_template="en").save(tmp_path / "ckpt")
    assert (
        main(
            [
                "data",
                "export-verl",
                str(root),
                "-o",
                str(tmp_path / "v"),
                "--checkpoint-meta",
                str(tmp_path / "ckpt"),
                "--max-pixels",
                "100000",
                "--override-checkpoint-meta",
            ]
        )
        == 0
    )
    row = pq.read_table(tmp_path / "v" / "train.parquet").slice(0, 1).to_pylist()[0]
    assert (row["extra_info"]["coord_space"], row["extra_info"]["max_pixels"]) == ("norm1000", 100_000)
    assert "1000" in row["prompt"][0]["content"] and "screen" in row["prompt"][0]["content"].lower()
    assert (tmp_path / "v" / "reward.py").is_file()


def test_export_verl_refuses_a_setting_other_than_the_checkpoints(tmp_path: Path, capsys) -> None:
    """The one rule of `agent.spec`: a flag that differs from phone_r1.json needs the override flag."""
    from agent.checkpoint import CheckpointMeta

    root = make_raw_folder(tmp_path / "raw", {"1": 1})
    CheckpointMeta(coord_space="norm1000", max_pixels=200_000).save(tmp_path / "ckpt")
    args = [
        "data",
        "export-verl",
        str(root),
        "-o",
        str(tmp_path / "v"),
        "--checkpoint-meta",
        str(tmp_path / "ckpt"),
    ]
    assert main([*args, "--max-pixels", "100000"]) == 2
    err = capsys.readouterr().err
    assert "max_pixels: the checkpoint has 200000, the command line gives 100000" in err
    assert "--override-checkpoint-meta" in err and not (tmp_path / "v").exists()
    assert main([*args, "--max-pixels", "200000"]) == 0  # agreeing with the checkpoint is fine


def test_synth_command_writes_valid_held_out_episodes(tmp_path: Path, capsys) -> None:
    train, test = tmp_path / "train", tmp_path / "test"
    assert (
        main(["data", "synth", "-o", str(train), "--episodes", "2", "--width", "360", "--height", "800"]) == 0
    )
    assert (
        main(
            [
                "data",
                "synth",
                "-o",
                str(test),
                "--episodes",
                "2",
                "--width",
                "360",
                "--height",
                "800",
                "--start-id",
                "20001",
                "--exclude-tasks-from",
                str(train),
            ]
        )
        == 0
    )
    assert sorted(p.name for p in test.iterdir()) == ["20001", "20002"]
    for root in (train, test):
        assert main(["data", "validate", str(root)]) == 0
    assert main(["data", "synth", "-o", str(train), "--episodes", "1", "--width", "360"]) == 2
    assert "--width and --height together" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["validate", "stats"])
def test_a_missing_path_is_one_line_and_exit_2(command: str, tmp_path: Path, capsys) -> None:
    assert main(["data", command, str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{tmp_path / 'nope'}: expected a folder of episodes" in err and "no such file or folder" in err


@pytest.mark.parametrize("command", ["validate", "stats"])
def test_an_episode_folder_or_an_empty_folder_is_refused_saying_what_was_expected(
    command: str, tmp_path: Path, capsys
) -> None:
    root = make_raw_folder(tmp_path / "raw", {"7": 3})
    (tmp_path / "empty").mkdir()
    assert main(["data", command, str(root / "7")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ROOT/<episode_id>/step_<n>.json" in err
    assert "an episode folder" in err and str(root) in err  # names the parent to pass instead
    assert main(["data", command, str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "found no episode folders" in err


def test_a_single_step_file_is_read_as_a_step_file(tmp_path: Path, capsys) -> None:
    root = make_raw_folder(tmp_path / "raw", {"7": 3})
    step = root / "7" / "step_2.json"
    assert main(["data", "validate", str(step)]) == 0
    assert "1 episodes, 1 steps: 0 error(s)" in capsys.readouterr().err
    assert main(["data", "stats", "--json", str(step)]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["steps"] == 1 and stats["episodes"] == 1 and stats["bad_records"] == 0
    assert stats["screen_sizes"] == {"120x240": 1}
    rewrite_step(step, lambda r: r["output"].update(action_type="fly"))
    assert main(["data", "validate", str(step)]) == 2
    assert "[unknown_action_type]" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["data", "convert", "{folder}", "-o", "{tmp}/o.jsonl"],
        ["data", "export-verl", "{folder}", "-o", "{tmp}/verl"],
        ["eval", "run", "--episodes", "{folder}", "--predictions", "{tmp}/p.jsonl", "-o", "{tmp}/r.jsonl"],
    ],
    ids=["convert", "export-verl", "eval-run"],
)
def test_every_reader_refuses_an_episode_folder_in_one_line(argv: list[str], tmp_path: Path, capsys) -> None:
    root = make_raw_folder(tmp_path / "raw", {"7": 2})
    (tmp_path / "p.jsonl").write_text("", encoding="utf-8")
    args = [a.format(folder=root / "7", tmp=tmp_path) for a in argv]
    assert main([*args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "found an episode folder" in err, err
