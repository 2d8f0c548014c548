"""api.md's ```json examples: each document, the curl line whose answer it shows, its schema, and how its keys differ
from a live answer (test_api_doc.py runs the curl lines)."""
import json
import os
import re
from dataclasses import dataclass, field

import jsonschema
import yaml

DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "docs")


@dataclass
class JsonExample:
    """One JSON document of api.md: its line, the parsed document, the line of the curl command it answers (None when
    no ```sh block shows one) and what is wrong with it as text (a repeated key, several documents for one command)."""
    line: int
    document: object
    command_line: int = None
    command: str = None
    problems: list = field(default_factory=list)


def _parse(text, line):
    """The document in `text`, and the keys it repeats (json.loads silently keeps the last of two)."""
    repeated = []

    def pairs(items):
        seen = set()
        for k, _ in items:
            if k in seen:
                repeated.append(k)
            seen.add(k)
        return dict(items)

    return json.loads(text, object_pairs_hook=pairs), [f"key {k!r} appears twice in one object" for k in repeated]


def _documents(block, first_line):
    """[(line, document, problems)] of a ```json block: one document, or one a line (several answers shown)."""
    try:
        doc, problems = _parse(block, first_line)
        return [(first_line, doc, problems)]
    except json.JSONDecodeError:
        pass
    out = []
    for i, text in enumerate(block.splitlines()):
        if text.strip():
            try:
                doc, problems = _parse(text, first_line + i)
            except json.JSONDecodeError as e:
                doc, problems = None, [f"not JSON: {e}"]
            out.append((first_line + i, doc, problems))
    return out


def json_examples(text, curl_examples):
    """Every JSON document of api.md's ```json blocks, each paired with a curl line of the ```sh block just before it
    (no other ```json block between): the i-th document with the i-th curl line, or a lone document with the first
    line when the block shows several ways to ask (the /stats sample)."""
    lines = text.splitlines()
    blocks, i = [], 0  # (kind, first content line number, text)
    while i < len(lines):
        fence = lines[i].strip()
        if fence.startswith("```") and fence != "```":
            j = i + 1
            while j < len(lines) and lines[j].strip() != "```":
                j += 1
            blocks.append((fence[3:], i + 2, "\n".join(lines[i + 1:j])))
            i = j
        i += 1
    out, commands = [], []
    for kind, first, body in blocks:
        if kind in ("sh", "bash", "shell"):
            end = first + body.count("\n")
            commands = [(n, cmd) for n, cmd, _ in curl_examples if first <= n <= end]
        elif kind == "json":
            docs = _documents(body, first)
            for k, (n, doc, problems) in enumerate(docs):
                ex = JsonExample(n, doc, problems=list(problems))
                if len(docs) == len(commands) or (len(docs) == 1 and commands):
                    ex.command_line, ex.command = commands[k]
                elif commands:
                    ex.problems.append(f"{len(docs)} documents for the {len(commands)} curl lines before them")
                out.append(ex)
            commands = []
    return out


def _endpoint(command):
    """(method, path) of an example's curl line."""
    m = re.search(r"\$BERTH_ADMIN(/[a-z]*)", command)
    return ("POST" if "-X POST" in command else "GET"), m.group(1)


def _openapi():
    with open(os.path.join(DOCS, "openapi.yaml")) as f:
        return yaml.safe_load(f)


def schema_for(example):
    """The JSON schema an example must match: the error object for an error, docs/stats.schema.json for /stats,
    else the 200 answer docs/openapi.yaml gives its endpoint; None when no curl line says which endpoint."""
    api = _openapi()
    if isinstance(example.document, dict) and "error" in example.document:
        return dict(api, **{"$ref": "#/components/schemas/Error"})
    if example.command is None:
        return None
    method, path = _endpoint(example.command)
    if path == "/stats":
        with open(os.path.join(DOCS, "stats.schema.json")) as f:
            return json.load(f)
    answer = api["paths"][path][method.lower()]["responses"]["200"]["content"]["application/json"]["schema"]
    return dict(api, **answer)  # the whole document around it, so that its #/components references resolve


def schema_errors(example):
    """What is wrong with an example against its schema (a list of messages; empty when it matches)."""
    if example.document is None:
        return []
    schema = schema_for(example)
    if schema is None:
        return ["a JSON example with no curl line before it that says which endpoint answers it"]
    validator = jsonschema.Draft202012Validator(schema)
    return [f"{'/'.join(map(str, e.path)) or '(document)'}: {e.message[:300]}"
            for e in sorted(validator.iter_errors(example.document), key=lambda e: list(e.path))]


def key_differences(example, live, path="$"):
    """Where `example` and the live answer `live` differ in keys (not values): a list of messages. Lists are compared
    by their first items."""
    if isinstance(example, dict) and isinstance(live, dict):
        out = [f"{path}.{k}: not in berth's answer" for k in example if k not in live]
        out += [f"{path}.{k}: in berth's answer, not in the example" for k in live if k not in example]
        for k in example:
            if k in live:
                out += key_differences(example[k], live[k], f"{path}.{k}")
        return out
    if isinstance(example, list) and isinstance(live, list):
        return key_differences(example[0], live[0], f"{path}[0]") if example and live else []
    if isinstance(example, (dict, list)) or isinstance(live, (dict, list)):
        return [f"{path}: {type(example).__name__} here, {type(live).__name__} in berth's answer"]
    return []
