"""Input problems reported all at once, each pointing at file, line and field.

Hand-written YAML is where most runs go wrong, so the HU loader and the environments loader share one way
to say what is wrong: ``file:line: field.path: what is expected``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from productizar.core.errors import InputFileError
from productizar.core.problem import Loc, Problem


def show_value(value: Any) -> str:
    """How a rejected value is quoted in a message: strings in double quotes, the rest as YAML shows it."""
    if isinstance(value, str):
        return f'"{value}"'
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# A parameter file is a page of hand-written YAML: anything bigger is a mistake (or an attack), refused
# before it is read into memory
MAX_FILE_BYTES = 256 * 1024
# nodes the file may stand for once every alias is followed: an "alias bomb" (aliases of aliases) stands
# for billions from a few lines, and anything that walks it (validation, printing) would run for hours
MAX_EXPANDED_NODES = 100_000


def _decode(path: Path, raw: bytes) -> str:
    """The file's text as UTF-8; another encoding is a problem that says where and what to do."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputFileError(
            path,
            [
                Problem(
                    (),
                    f"not UTF-8 (byte 0x{raw[exc.start]:02x} cannot be read; the file looks saved as Latin-1 or "
                    "Windows-1252): save it as UTF-8",
                    line,
                )
            ],
        ) from None


def _expanded_nodes(root: yaml.Node | None, limit: int) -> int:
    """How many nodes the document stands for with every alias followed, counted once per node (aliases
    share their node), stopping as soon as ``limit`` is passed."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        sizes[id(node)] = limit + 1  # a node that contains itself (a recursive alias) has no end
        total = 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                total += size(key) + size(value)
                if total > limit:
                    break
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                total += size(item)
                if total > limit:
                    break
        sizes[id(node)] = min(total, limit + 1)
        return sizes[id(node)]

    return size(root) if root is not None else 0


class YamlDocument:
    """A YAML file parsed once into nodes that know their line numbers, then built into plain data."""

    def __init__(self, path: Path):
        self.path = path
        bytes_ = path.stat().st_size
        if bytes_ > MAX_FILE_BYTES:
            raise InputFileError(
                path,
                [
                    Problem(
                        (),
                        f"is {bytes_:,} bytes; a parameter file has at most {MAX_FILE_BYTES:,}: is it the right file?",
                    )
                ],
            )
        with path.open("rb") as fh:
            text = _decode(path, fh.read(MAX_FILE_BYTES + 1))
        try:
            loader = yaml.SafeLoader(text)
            try:
                self.node = loader.get_single_node()
                if _expanded_nodes(self.node, MAX_EXPANDED_NODES) > MAX_EXPANDED_NODES:
                    raise InputFileError(
                        path,
                        [
                            Problem(
                                (),
                                f"its aliases (*name) expand to more than {MAX_EXPANDED_NODES:,} values: "
                                "write the values out instead of nesting aliases",
                                self.node.start_mark.line + 1 if self.node is not None else None,
                            )
                        ],
                    )
                self.data = loader.construct_document(self.node) if self.node is not None else None
            finally:
                loader.dispose()
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            problem = getattr(exc, "problem", None) or str(exc)
            raise InputFileError(path, [Problem((), f"not valid YAML: {problem}", line)]) from None
        except RecursionError:
            raise InputFileError(path, [Problem((), "nested too deeply to be a parameter file")]) from None

    def line_of(self, loc: Loc) -> int | None:
        """1-based line of the node at ``loc``; the closest existing parent when it is absent."""
        node = self.node
        line = node.start_mark.line + 1 if node is not None else None
        for part in loc:
            child = None
            if isinstance(node, yaml.MappingNode) and isinstance(part, str):
                for key, value in node.value:
                    if key.value == part:
                        child = value
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                child = node.value[part]
            if child is None:
                break
            node = child
            line = node.start_mark.line + 1
        return line

    def duplicate_keys(self) -> list[Problem]:
        """Keys written twice in one mapping: YAML keeps the last silently, which hides a mistake."""
        found: list[Problem] = []

        def walk(node: yaml.Node | None, loc: Loc) -> None:
            if isinstance(node, yaml.MappingNode):
                seen: set[str] = set()
                for key, value in node.value:
                    if key.value in seen:
                        found.append(
                            Problem(
                                loc + (key.value,), "written twice; only the last would count", key.start_mark.line + 1
                            )
                        )
                    seen.add(key.value)
                    walk(value, loc + (key.value,))
            elif isinstance(node, yaml.SequenceNode):
                for i, item in enumerate(node.value):
                    walk(item, loc + (i,))

        walk(self.node, ())
        return found


# ------------------------------------------------------------------------------------- pydantic bridge

M = TypeVar("M", bound=BaseModel)
CrossChecks = Callable[[Any], list[tuple[Loc, str]]]


def _allowed_fields(root: type[BaseModel], loc: Loc) -> list[str]:
    """Field names the model at ``loc`` accepts, to suggest them for an unknown field."""
    model: Any = root
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        fields = getattr(model, "model_fields", {})
        if part not in fields:  # a dict keyed by free names (e.g. environments): same model below
            ann = model
        else:
            ann = fields[part].annotation
        for _ in range(4):  # unwrap list[...], dict[..., X], X | None
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                break
            args = [a for a in getattr(ann, "__args__", ()) if a is not type(None)]
            ann = args[-1] if args else ann
        model = ann
    return list(getattr(model, "model_fields", {}))


def _message(root: type[BaseModel], err: Mapping[str, Any]) -> str:
    kind, value = err["type"], err.get("input")
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        allowed = _allowed_fields(root, tuple(err["loc"]))
        return "unknown field" + (f" (expected one of: {', '.join(allowed)})" if allowed else "")
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "").replace("'", "")
        return f"must be {expected}, got {show_value(value)}"
    if kind == "string_pattern_mismatch":
        return f"does not have the expected form ({err['ctx']['pattern']}), got {show_value(value)}"
    if kind == "value_error":
        return str(err["ctx"]["error"])
    msg = err["msg"][0].lower() + err["msg"][1:]
    return f"{msg}, got {show_value(value)}" if not isinstance(value, (dict, list)) else msg


def load_yaml_model(path: str | Path, model: type[M], cross_checks: CrossChecks | None = None) -> M:
    """Parse a YAML file into ``model``; raise InputFileError with every problem (file, line, field)."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, [Problem((), "file not found")])
    doc = YamlDocument(path)
    problems = doc.duplicate_keys()
    if not isinstance(doc.data, dict):
        raise InputFileError(path, problems + [Problem((), "must be a YAML mapping (key: value)", 1)])
    result: M | None = None
    try:
        result = model.model_validate(doc.data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            problems.append(Problem(loc, _message(model, err), doc.line_of(loc)))
    for loc, message in cross_checks(doc.data) if cross_checks else []:
        problems.append(Problem(loc, message, doc.line_of(loc)))
    unique = list(dict.fromkeys(problems))
    if unique or result is None:
        raise InputFileError(path, unique)
    return result
