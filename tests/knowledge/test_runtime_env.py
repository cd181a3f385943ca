"""Process settings for the bundled models: torch's threads per inference."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from assistant.config import load_settings
from tests.conftest import ROOT

THREADS_AFTER = (
    "import sys, torch; from knowledge.runtime_env import set_model_threads; "
    "default = torch.get_num_threads(); set_model_threads(int(sys.argv[1])); "
    "print(default, torch.get_num_threads())"
)


def _threads(setting: int) -> tuple[int, int]:
    out = subprocess.run(
        [sys.executable, "-c", THREADS_AFTER, str(setting)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    default, after = out.stdout.split()
    return int(default), int(after)


def test_one_thread_per_inference_is_set_and_zero_keeps_torchs_default() -> None:
    default, after = _threads(1)
    assert after == 1
    default_again, unchanged = _threads(0)
    assert unchanged == default_again == default


def test_settings_default_to_one_thread_and_refuse_a_negative_count(tmp_path) -> None:
    assert load_settings(home=tmp_path / "home").model_threads == 1
    with pytest.raises(ValidationError):
        load_settings(home=tmp_path / "home", model_threads=-1)
