"""Semi-online credit and environments on a scripted policy, against hand-computed values.

The policy answers every step of a recorded 3-step episode (gold: `back`) in two rollouts: rollout A
answers `back` throughout; rollout B answers `home` at step 1. Reward 1 for a match, 0 otherwise;
gamma 0.5, step weight 1. With the `patch` policy B goes on with the gold in its history (rewards
1, 0, 1); with `stop` it ends at step 1 (rewards 1, 0).
"""

from __future__ import annotations

import math

import pytest

from actions import Back, Click, Home
from agent.prompt import build_messages
from episodes.history import with_history
from episodes.readers import read_steps
from tests.helpers.live_env import ScriptedLiveEnvironment
from tests.helpers.tiny import write_episodes
from training.credit import EPS, credit
from training.environment import ReplayEnvironment
from training.rollout import group_credit, run_rollouts, step_statistics

GAMMA, WEIGHT = 0.5, 1.0


def z(delta: float, spread: float) -> float:
    """delta / (sample std of two values `spread` apart + eps): a two-rollout group's advantage."""
    return delta / (spread / math.sqrt(2) + EPS)


@pytest.fixture(scope="module")
def episode(tmp_path_factory):
    root = write_episodes(tmp_path_factory.mktemp("replay"), n_episodes=1, steps=3)
    return read_steps(root)


def scripted(answers: list[list]):
    """ask(): rollout g answers answers[g][k] at its k-th step; reward 1 where it is the gold's type."""
    counters = [0] * len(answers)

    def ask(observations):
        out = []
        for g, obs in enumerate(observations):
            if obs is None:
                out.append(None)
                continue
            action = answers[g][counters[g]]
            counters[g] += 1
            out.append((1.0 if action.action_type == obs.gold.action_type else 0.0, action))
        return out

    return ask


A = [Back(), Back(), Back()]
B = [Back(), Home(), Back()]


def test_credit_patched_rollouts_match_hand_computed_values(episode):
    envs = [ReplayEnvironment(patch="patch", max_patches=1) for _ in range(2)]
    rollouts = run_rollouts(envs, [episode, episode], scripted([A, B]))
    assert [r.rewards for r in rollouts] == [[1, 1, 1], [1, 0, 1]]
    assert [r.patches for r in rollouts] == [0, 1]
    assert [r.divergence for r in rollouts] == [None, 1]
    (c,) = group_credit(rollouts, 2, gamma=GAMMA, step_weight=WEIGHT)
    # returns: A 1+.5+.25, 1+.5, 1; B 1+0+.25, 0+.5, 1
    assert c.returns == [[1.75, 1.5, 1.0], [1.25, 0.5, 1.0]]
    step = [z(0.25, 0.5), z(0.5, 1.0), 0.0]  # A's side; B's is the negative
    episode_adv = z(0.5, 1.0)  # totals 3 and 2
    expected_a = [episode_adv + WEIGHT * s for s in step]
    expected_b = [-episode_adv - WEIGHT * s for s in step]
    assert c.advantages[0] == pytest.approx(expected_a, abs=1e-9)
    assert c.advantages[1] == pytest.approx(expected_b, abs=1e-9)
    # B's third prompt holds its own first answer and the gold's description where it was patched.
    third = rollouts[1].observations[2]
    assert third.history == [*episode[0].history, "回退", "回退"]
    assert rollouts[1].infos[1].patched and not rollouts[1].infos[1].matched


def test_credit_stopped_rollouts_match_hand_computed_values(episode):
    envs = [ReplayEnvironment(patch="stop") for _ in range(2)]
    rollouts = run_rollouts(envs, [episode, episode], scripted([A, B]))
    assert [r.rewards for r in rollouts] == [[1, 1, 1], [1, 0]]
    assert [r.stopped for r in rollouts] == [False, True]
    (c,) = group_credit(rollouts, 2, gamma=GAMMA, step_weight=WEIGHT)
    assert c.returns == [[1.75, 1.5, 1.0], [1.0, 0.0]]
    episode_adv = z(1.0, 2.0)  # totals 3 and 1
    a_step = [z(0.375, 0.75), z(0.75, 1.5), 0.0]  # step 2: only A reached it
    assert c.advantages[0] == pytest.approx([episode_adv + s for s in a_step], abs=1e-9)
    assert c.advantages[1] == pytest.approx([-episode_adv - s for s in a_step[:2]], abs=1e-9)
    stats = step_statistics(rollouts, [c])
    assert stats["semi_online/reward/step_1"] == 0.5
    assert stats["semi_online/reward/step_2"] == 1.0
    assert stats["semi_online/diverged_at/step_1"] == 0.5
    assert stats["semi_online/stopped"] == 0.5


def test_patch_cap_stops_the_rollout(episode):
    envs = [ReplayEnvironment(patch="patch", max_patches=1)]
    rollouts = run_rollouts(envs, [episode], scripted([[Home(), Home(), Back()]]))
    assert rollouts[0].rewards == [0, 0]
    assert rollouts[0].patches == 1 and rollouts[0].stopped


def test_step_weight_and_gamma_enter_the_advantage():
    c = credit([[1, 0], [0, 0]], gamma=0.0, step_weight=0.5)
    assert c.returns == [[1, 0], [0, 0]]
    assert c.advantages[0][0] == pytest.approx(z(0.5, 1) + 0.5 * z(0.5, 1))
    assert c.advantages[0][1] == pytest.approx(z(0.5, 1))
    with pytest.raises(ValueError, match="gamma"):
        credit([[1]], gamma=1.5, step_weight=1)


def test_replay_prompts_are_the_own_history_builder(episode):
    env = ReplayEnvironment(patch="patch")
    obs = env.reset(episode)
    obs, _, info = env.step(Back(description="我按了返回"))
    assert info.matched and obs.history == [*episode[0].history, "我按了返回"]
    # The same messages `eval run --history own` asks with.
    expected = build_messages(with_history(episode[1], [*episode[0].history, "我按了返回"]))
    assert build_messages(obs) == expected


def test_scripted_live_environment_reacts_to_actions(tmp_path, episode):
    env = ScriptedLiveEnvironment(tmp_path / "screens")
    click = Click(box=(200, 350, 220, 370))
    # Rollout 0: back on home (screen stays), then the click, then back: done after 3 steps.
    # Rollout 1: the click at once, then back: done after 2 steps.
    envs = [env, ScriptedLiveEnvironment(tmp_path / "screens2")]
    rollouts = run_rollouts(envs, [episode, episode], scripted([[Back(), click, Back()], [click, Back()]]))
    assert [r.rewards for r in rollouts] == [[0, 1, 1], [1, 1]]
    first = rollouts[0].observations
    assert first[0].screenshots[-1].name == "home" + ".jpg"
    assert first[1].screenshots[-1].name == "home.jpg"  # back on home changed nothing
    assert first[2].screenshots[-1].name == "settings.jpg"
    assert rollouts[1].observations[1].screenshots[-1].name == "settings.jpg"
    assert [o.gold.action_type for o in first] == ["click", "click", "back"]


def test_rollouts_ask_with_no_live_observation_while_another_rank_goes_on(episode):
    # Another rank's rollouts last two step indexes longer: `go_on` says so after this rank is done,
    # and this rank asks with every observation None (filler rows) without changing its rollouts.
    asked = []
    ask = scripted([A, A])

    def recording(observations):
        asked.append([obs is not None for obs in observations])
        return ask(observations)

    longest = iter([True] * 5 + [False])
    envs = [ReplayEnvironment(patch="patch", max_patches=1) for _ in range(2)]
    rollouts = run_rollouts(envs, [episode, episode], recording, go_on=lambda live: next(longest))
    assert asked == [[True, True]] * 3 + [[False, False]] * 2
    assert [r.rewards for r in rollouts] == [[1, 1, 1], [1, 1, 1]]
