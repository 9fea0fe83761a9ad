"""The calibration guard: what lies outside the published measurements the throughput model is
fitted on is listed (stderr, the workbook's Method sheet), never silently extrapolated."""

from __future__ import annotations

import openpyxl
import pytest
from click.testing import CliRunner

import capacity
from capacity.cli import main
from capacity.data.catalog import default_catalog
from capacity.model.coverage import CalibratedRange, calibrated_range, outside_calibration

OPTIONS_WITHIN = """options:
  frontier-api:
    frontier_tier: {product: gpt-5, proxy_model: deepseek-v3}
    open_tier: {product: gpt-5-mini, proxy_model: gpt-oss-120b}
    offshore: {gpu: gb200, precision: fp8, max_tpot_ms: 50, after_roadmap: last}
  hosted-open-weight:
    frontier_tier: {model: deepseek-v3}
    open_tier: {model: gpt-oss-120b}
    gpu: h100-sxm
    precision: fp8
    max_tpot_ms: 50
    location: domestic
    after_roadmap: last
  domestic-buildout:
    frontier_tier: {model: deepseek-v3}
    open_tier: {model: gpt-oss-120b}
    gpu: b200
    precision: fp8
    max_tpot_ms: 50
    bridge: hosted-open-weight
    after_roadmap: last
"""


def _scenario(tmp_path, input_tokens=2000, output_tokens=500, gpu="h100-sxm"):
    path = tmp_path / "within.yaml"
    path.write_text("name: within\nworldview: realist\nhorizon: {first_year: 2026, last_year: 2027}\n"
                    "regions: {NLD: {}}\nuse_cases:\n  customer-service: {input_tokens: %d, "
                    "output_tokens: %d, reasoning_tokens: 0, token_growth: 0}\n" % (input_tokens, output_tokens)
                    + OPTIONS_WITHIN.replace("gpu: h100-sxm", f"gpu: {gpu}"))
    return path


def test_the_calibrated_range_is_read_off_the_fitted_measurements():
    calibrated = calibrated_range(default_catalog())
    assert calibrated.measurements == 82
    assert calibrated.max_input_tokens == 20_000      # vLLM FP8-KV blog, Llama 3.1 8B on H100 (the longest prompt)
    assert calibrated.max_output_tokens == 8_192      # TensorRT-LLM per-GPU table, 1024/8192 on B200
    assert calibrated.gpus == {"h100-sxm", "h200-sxm", "b200", "gb200", "mi300x", "mi325x", "mi355x"}
    assert ("moe", "mla") in calibrated.families and ("dense", "gqa") in calibrated.families


def test_a_run_inside_the_range_has_no_finding_and_no_warning(tmp_path, monkeypatch):
    plan = capacity.run(_scenario(tmp_path))
    assert plan.outside_calibration.empty and plan.calibration_warnings == []
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["run", "within.yaml", "-o", "w.xlsx"])
    assert result.exit_code == 0 and "warning" not in result.stderr
    method = openpyxl.load_workbook(tmp_path / "w.xlsx")["Method"]
    values = [cell for row in method.iter_rows(values_only=True) for cell in row if cell]
    assert "Outside the calibrated range" in values
    assert any(str(v).startswith("none: every request shape") for v in values)


def test_a_long_prompt_and_an_unmeasured_gpu_are_listed(tmp_path, monkeypatch):
    plan = capacity.run(_scenario(tmp_path, input_tokens=30_000, gpu="b300"))
    outside = plan.outside_calibration.set_index(["kind", "item"])
    prompt = outside.loc[("prompt length", "customer-service")]
    assert prompt["found"] == "30,000 tokens per request" and prompt["calibrated"] == "up to 20,000"
    assert prompt["options"] == "domestic-buildout, frontier-api, hosted-open-weight"
    assert prompt["from_year"] == 2026
    gpu = outside.loc[("GPU", "b300")]
    assert gpu["options"] == "hosted-open-weight"
    assert ("output length", "customer-service") not in outside.index
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["run", "within.yaml", "--format", "csv", "-o", "-"])
    assert result.exit_code == 0
    warnings = [line for line in result.stderr.splitlines() if line.startswith("capacity: warning: ")
                and "far outside the sourced range" not in line]       # 30,000 tokens is, on purpose
    assert warnings[1] == ("capacity: warning: prompt lengths beyond the 20,000 tokens per request "
                           "measured: customer-service (from 2026, up to 30,000)")
    assert warnings[2].startswith("capacity: warning: GPUs never measured: b300 (hosted-open-weight, "
                                  "from 2026: its architecture's factors apply)")
    assert result.stdout.startswith("scenario,region,option")


def test_a_model_family_outside_the_measured_ones_is_listed(tmp_path):
    plan = capacity.run(_scenario(tmp_path))
    only_dense = CalibratedRange(10_200, 1_000, frozenset({"h100-sxm", "b200", "gb200"}),
                                 frozenset({("dense", "gqa")}), 3)
    outside = outside_calibration(plan.throughput, default_catalog(), only_dense)
    families = outside[outside["kind"] == "model family"].set_index("item")
    assert sorted(families.index) == ["deepseek-v3", "gpt-oss-120b"]
    assert families.loc["deepseek-v3", "found"] == "moe/mla"
    assert families.loc["deepseek-v3", "calibrated"] == "dense/gqa"


def test_the_default_scenario_warns_of_its_long_agentic_requests(default_plan):
    outside = default_plan.outside_calibration
    prompts = outside[outside["kind"] == "prompt length"].set_index("item")
    assert "agentic-coding" in prompts.index
    assert prompts.loc["agentic-coding", "from_year"] == 2026   # 68,000 tokens per call already
    assert default_plan.calibration_warnings[0].startswith("outside the range of the 82 published")


@pytest.mark.parametrize("tokens", [20_000, 19_999])
def test_the_boundary_itself_is_inside(tmp_path, tokens):
    plan = capacity.run(_scenario(tmp_path, input_tokens=tokens))
    assert plan.outside_calibration.empty
