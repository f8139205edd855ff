"""Scenario TOML -> validated settings.

A scenario file names the inputs, the budget holders and their budgets, the
threat axes, the graph settings, the candidate-site rules and the solve
settings. Relative paths resolve against the file. Unknown keys are errors
that name the key's full path (pydantic ``extra="forbid"``).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from optimizer.errors import InputError, Problem

OBJECTIVES = ("blocked", "delay", "detection", "throughput")
MODES = ("national", "joint", "pooled")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LayerRef(_Strict):
    """A vector layer (GeoPackage, Shapefile, GeoJSON, OSM) or a CSV with lon/lat columns."""

    path: Path
    layer: str | None = None
    id_column: str | None = None
    name_column: str | None = None
    country_column: str | None = None
    population_column: str | None = None
    class_column: str | None = None
    classes: dict[str, str] | None = None  # raster land cover: pixel code -> class name


class InputsConfig(_Strict):
    countries: LayerRef
    water: list[LayerRef] = Field(default_factory=list)
    rivers: list[LayerRef] = Field(default_factory=list)
    settlements: LayerRef | None = None
    border_crossings: LayerRef | None = None
    roads: LayerRef | None = None
    land_cover: LayerRef | None = None
    elevation: LayerRef | None = None
    obstacle_types: Path
    sensor_types: Path
    terrain_speeds: Path
    attribution: Path | None = None


class GraphConfig(_Strict):
    crs: str = "EPSG:3035"
    bbox: tuple[float, float, float, float] | None = None
    cell_km: Annotated[float, Field(gt=0.2, le=50)] = 5.0
    cell_shape: Literal["hex", "square"] = "hex"
    defended: list[str]
    hostile: list[str]
    approach_km: Annotated[float, Field(ge=0)] = 60.0
    vehicle: Literal["tracked", "wheeled"] = "tracked"
    road_detour_factor: Annotated[float, Field(ge=1.0)] = 1.25
    road_max_link_km: Annotated[float, Field(gt=0)] = 45.0
    road_major_population: Annotated[int, Field(ge=0)] = 20000
    crossing_links: Annotated[int, Field(ge=1)] = 2
    connector_min: Annotated[float, Field(ge=0)] = 10.0
    bridge_length_m: Annotated[float, Field(gt=0)] = 200.0
    staging_radius_km: Annotated[float, Field(ge=0)] = 8.0
    max_slope_deg: Annotated[float, Field(gt=0, le=90)] = 30.0  # terrain.csv max_slope_tank_deg


class PlaceRef(_Strict):
    """A place by settlement name (optionally with its country) or by coordinates."""

    place: str | None = None
    country: str | None = None
    lon: float | None = None
    lat: float | None = None

    @model_validator(mode="after")
    def _one_way(self) -> PlaceRef:
        by_name = self.place is not None
        by_xy = self.lon is not None and self.lat is not None
        if by_name == by_xy:
            raise ValueError("give either 'place' (with optional 'country') or both 'lon' and 'lat'")
        return self

    def label(self) -> str:
        if self.place is not None:
            return f"{self.place} ({self.country})" if self.country else self.place
        return f"{self.lon:.3f},{self.lat:.3f}"


class AxisConfig(_Strict):
    id: str
    origin: PlaceRef
    objective: PlaceRef
    weight: Annotated[float, Field(gt=0)] = 1.0
    threshold_h: Annotated[float, Field(gt=0)] | None = None
    required_delay_h: Annotated[float, Field(gt=0)] | None = None

    @model_validator(mode="after")
    def _threshold(self) -> AxisConfig:
        if self.threshold_h is not None and self.required_delay_h is not None:
            raise ValueError("give 'threshold_h' or 'required_delay_h', not both")
        return self


class CandidatesConfig(_Strict):
    band_km: Annotated[float, Field(gt=0)] = 12.0
    terrain_types: list[str] = Field(default_factory=lambda: ["at_ditch"])
    road_types: list[str] = Field(default_factory=lambda: ["concrete_blocks"])
    bridge_types: list[str] = Field(default_factory=lambda: ["bridge_demolition"])
    sensor_types: list[str] = Field(default_factory=lambda: ["surveillance_tower"])
    sensor_spacing_km: Annotated[float, Field(gt=0)] = 10.0
    sensor_band_km: Annotated[float, Field(gt=0)] = 12.0
    fixed: list[str] = Field(default_factory=list)
    excluded: list[str] = Field(default_factory=list)
    max_per_type: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    sites: LayerRef | None = None   # the user's own candidate sites (points)
    generate: bool = True           # also generate sites from the graph
    snap_km: Annotated[float, Field(gt=0)] = 3.0


class SolveConfig(_Strict):
    objective: Literal["blocked", "delay", "detection", "throughput"] = "blocked"
    weights: dict[str, Annotated[float, Field(ge=0)]] | None = None
    mode: Literal["national", "joint", "pooled"] = "joint"
    solver: Literal["highs", "cbc"] = "highs"
    time_limit_s: Annotated[float, Field(gt=0)] = 300.0
    gap_rel: Annotated[float, Field(ge=0, lt=1)] = 1e-6
    threads: Annotated[int, Field(ge=1)] = 1
    seed: int = 0
    max_rounds: Annotated[int, Field(ge=1)] = 500
    routes_per_round: Annotated[int, Field(ge=1)] = 8
    prefer_cheaper: bool = True
    blocked_time_h: Annotated[float, Field(gt=0)] = 240.0

    @field_validator("weights")
    @classmethod
    def _known_objectives(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is not None:
            unknown = sorted(set(value) - set(OBJECTIVES))
            if unknown:
                raise ValueError(f"unknown objective(s) {unknown}; known: {list(OBJECTIVES)}")
            if not any(v > 0 for v in value.values()):
                raise ValueError("at least one objective weight must be positive")
        return value

    def objective_weights(self) -> dict[str, float]:
        """The objective mix: ``weights`` if given, else the single ``objective``."""
        if self.weights:
            return {k: float(v) for k, v in self.weights.items() if v > 0}
        return {self.objective: 1.0}


class ScheduleConfig(_Strict):
    """Budgets over time: build over ``years``; annual budgets per holder (default: equal
    shares of [budgets]); unspent money carries over only with ``carry_over``."""

    years: Annotated[int, Field(ge=1, le=30)] = 1
    annual: dict[str, list[Annotated[float, Field(ge=0)]]] = Field(default_factory=dict)
    carry_over: bool = False


class ScenarioConfig(_Strict):
    """The whole configuration of one run."""

    name: str = "run"
    description: str = ""
    data_note: str = ""
    inputs: InputsConfig
    graph: GraphConfig
    budgets: dict[str, Annotated[float, Field(ge=0)]]
    axes: list[AxisConfig]
    candidates: CandidatesConfig = Field(default_factory=CandidatesConfig)
    solve: SolveConfig = Field(default_factory=SolveConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    base_dir: Path = Field(default=Path("."), exclude=True)

    def resolve(self, path: Path | str) -> Path:
        path = Path(path)
        return path if path.is_absolute() else (self.base_dir / path)

    def with_solve(self, **changes: object) -> ScenarioConfig:
        """A copy with some solve settings replaced (validated like the file)."""
        data = self.solve.model_dump()
        data.update({k: v for k, v in changes.items() if v is not None})
        return self.model_copy(update={"solve": SolveConfig(**data)})


def _pydantic_problems(error: ValidationError, source: str) -> list[Problem]:
    problems = []
    for item in error.errors():
        key = ".".join(str(p) for p in item["loc"]) or "(top level)"
        if item["type"] == "extra_forbidden":
            problems.append(Problem(f"{source}: key '{key}'", "unknown key",
                                    "remove it or correct its spelling (see README, scenario file)"))
        elif item["type"] == "missing":
            problems.append(Problem(f"{source}: key '{key}'", "required key is missing",
                                    "add it (see inputs/baltic.toml for an example)"))
        else:
            problems.append(Problem(f"{source}: key '{key}'", item["msg"], "correct the value"))
    return problems


def config_from_dict(data: dict, *, base_dir: Path, source: str = "config") -> ScenarioConfig:
    """Validate a configuration mapping; raise :class:`InputError` listing every problem."""
    try:
        config = ScenarioConfig(**data)
    except ValidationError as error:
        raise InputError(_pydantic_problems(error, source)) from None
    return config.model_copy(update={"base_dir": Path(base_dir)})


def load_config(path: Path | str) -> ScenarioConfig:
    """Read and validate a scenario TOML file.

    Parameters
    ----------
    path
        The scenario file; relative input paths inside it resolve against its folder.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError([Problem(str(path), "scenario file not found",
                                  "pass an existing .toml file (default: inputs/baltic.toml)")])
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InputError([Problem(str(path), f"not valid TOML: {error}", "fix the syntax")]) from None
    if ("base" in data or "scenarios" in data) and "inputs" not in data:
        base = f" ({data['base']})" if isinstance(data.get("base"), str) else ""
        raise InputError([Problem(
            str(path), "a scenario comparison file (it has 'base' or 'scenarios'), not a "
            "scenario", f"solve it with `optimizer compare {path}`, or pass its base "
            f"scenario{base}")])
    return config_from_dict(data, base_dir=path.parent.resolve(), source=path.name)


def default_config_path() -> Path:
    """The embedded Baltic default scenario (``inputs/baltic.toml``).

    Looked up beside the package (an editable install or a clone), then in the
    current directory.
    """
    beside = Path(__file__).resolve().parent.parent / "inputs" / "baltic.toml"
    return beside if beside.is_file() else Path("inputs") / "baltic.toml"
