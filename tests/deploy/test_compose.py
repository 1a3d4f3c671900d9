"""The deployment files, checked without a Docker engine (none runs on these machines)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml

from cli.main import app

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"postgres", "migrate", "api", "worker", "scheduler"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def _stages(dockerfile: str) -> dict[str, str]:
    """Each build stage's text by its name."""
    parts = re.split(r"^FROM\s+\S+\s+AS\s+(\S+)\s*$", dockerfile, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _assert_cli_accepts(argv: list[str]) -> None:
    """Fail unless ``argv`` (``forecaster SUBCOMMAND --opt ...``) parses in our real CLI."""
    assert argv[0] == "forecaster", argv
    group = typer.main.get_command(app)
    command = group.commands.get(argv[1])  # type: ignore[attr-defined]
    assert command is not None, f"no CLI command {argv[1]!r}"
    ctx = command.make_context(argv[1], list(argv[2:]), resilient_parsing=False)
    assert ctx.params is not None


def test_compose_has_every_service(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == SERVICES


def test_postgres_is_healthchecked_and_persistent(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    volume = postgres["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]


@pytest.mark.parametrize("service", ["api", "worker", "scheduler"])
def test_services_wait_for_database_and_migrations(compose: dict[str, Any], service: str) -> None:
    depends = compose["services"][service]["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["migrate"]["condition"] == "service_completed_successfully"


def test_migrate_is_one_shot(compose: dict[str, Any]) -> None:
    migrate = compose["services"]["migrate"]
    assert migrate["command"] == ["forecaster", "migrate"]
    assert migrate["restart"] == "no"


def test_worker_reserves_one_nvidia_gpu_and_scales(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    (device,) = worker["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia"
    assert device["count"] == 1
    assert "gpu" in device["capabilities"]
    assert "container_name" not in worker, "a fixed name would block --scale worker=N"
    assert "ports" not in worker


def test_api_publishes_port_8000(compose: dict[str, Any]) -> None:
    assert any(str(p).endswith(":8000") for p in compose["services"]["api"]["ports"])


def test_api_processes_are_configurable(compose: dict[str, Any]) -> None:
    environment = compose["services"]["api"]["environment"]
    assert environment["FORECASTER_API_PROCESSES"] == "${FORECASTER_API_PROCESSES:-1}"


@pytest.mark.parametrize("service", sorted(SERVICES - {"postgres"}))
def test_every_compose_command_exists_in_the_cli(compose: dict[str, Any], service: str) -> None:
    _assert_cli_accepts(compose["services"][service]["command"])


def test_healthcheck_commands_exist_in_the_cli(compose: dict[str, Any], dockerfile: str) -> None:
    _assert_cli_accepts(compose["services"]["scheduler"]["healthcheck"]["test"][1:])
    for match in re.finditer(r"^CMD \[(.*)\]$", dockerfile, flags=re.MULTILINE):
        argv = [part.strip().strip('"') for part in match.group(1).split('", "')]
        if argv[0] == "forecaster":
            _assert_cli_accepts(argv)


def test_no_secret_is_committed(compose: dict[str, Any]) -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    for secret in ("POSTGRES_PASSWORD", "FORECASTER_API_KEYS"):
        assert re.search(rf"\$\{{{secret}:\?", text), f"{secret} must come from the environment"
    assert ".env" in (ROOT / ".gitignore").read_text().split()
    example = (ROOT / ".env.example").read_text()
    for name in set(re.findall(r"\$\{([A-Z_]+)", text)):
        assert re.search(rf"^{name}=", example, flags=re.MULTILINE), f"{name} not in .env.example"


def test_dockerfile_has_api_and_cuda_worker_images(dockerfile: str) -> None:
    stages = _stages(dockerfile)
    assert {"api", "worker"} <= set(stages)
    assert "CUDA_IMAGE" in re.search(r"^FROM (\S+) AS worker$", dockerfile, re.M).group(1)  # type: ignore[union-attr]
    assert "download.pytorch.org/whl/cpu" in stages["api-build"]


@pytest.mark.parametrize("stage", ["api", "worker"])
def test_final_images_are_non_root_healthchecked_and_without_build_tools(
    dockerfile: str, stage: str
) -> None:
    text = _stages(dockerfile)[stage]
    assert re.search(r"^USER (?!root)\S+", text, re.M)
    assert "HEALTHCHECK" in text
    for tool in ("gcc", "build-essential", "python3-dev", "pip install"):
        assert tool not in text


def test_dockerfile_installs_like_the_makefile(dockerfile: str) -> None:
    """Both install the pinned PyTorch build first, then the project itself."""
    makefile = (ROOT / "Makefile").read_text()
    make_spec = re.search(r"^TORCH_SPEC \?= (\S+)$", makefile, re.M).group(1)  # type: ignore[union-attr]
    make_steps = re.findall(r"pip install --progress-bar on (\S+)", makefile)
    assert make_steps == ['"$(TORCH_SPEC)"', "-e"]
    for stage in ("api-build", "worker-build"):
        text = _stages(dockerfile)[stage]
        assert f'ARG TORCH_SPEC="{make_spec}"' in text
        installs = [shlex.split(cmd)[-1] for cmd in re.findall(r"pip install ([^\\&\n]+)", text)]
        assert installs == ["$TORCH_SPEC", "."], installs
