#!/usr/bin/env python3
"""Cross-checks of deploy/ against the real binaries, run by scripts/check-deploy.

    check_references.py env-flags  --server BIN [--ctl BIN] --compose-rendered FILE
    check_references.py kubernetes
    check_references.py metrics    --promtool BIN

env-flags: every DOCSTOKG_* / AWS_* name that deploy/Dockerfile, deploy/compose.yaml and
  deploy/kubernetes/*.yaml mention must be a variable of `catalog-server config --reference`
  (the server ignores unknown variables, so a typo would otherwise pass silently). Then, for each
  container that runs catalog-server (image ENV merged under the container's own environment),
  `catalog-server config` runs with that environment, the container's flags and its config files
  (bind mounts, ConfigMaps), and each variable must show up as the source of a value. Every flag
  given to catalog-server or catalogctl must appear in `<binary> <subcommand> --help`.
kubernetes: selectors, port names, probe ports, ConfigMap / Secret / ServiceAccount names, the
  HPA target, the ServiceMonitor (a CRD that kubernetes-validate cannot check) and the
  kustomization's resources refer to things that exist.
metrics: every catalog_* metric in alerts.yml and the dashboard is in docs/operations.md's metric
  table, every dashboard query parses (promtool), every alert has a firing unit test, every alert
  links a runbook section that exists, and the job name is the same everywhere.

Prints one line per finding; exits 1 when anything failed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "compose.yaml"
KUBE = DEPLOY / "kubernetes"
NAME_RE = re.compile(r"\b((?:DOCSTOKG|AWS)_[A-Z0-9_]+)\b")
CATALOG_SERVICE = "docstokg.catalog.v1.CatalogService"
# The health service names the server reports (server/src/health.rs).
HEALTH_SERVICES = ("", CATALOG_SERVICE, "liveness")

failures: list[str] = []


def ok(message: str) -> None:
    print(f"  ok    {message}")


def fail(message: str) -> None:
    failures.append(message)
    print(f"  FAIL  {message}")


def warn(message: str) -> None:
    print(f"  warn  {message}")


def rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------------------------------------
# Reading the sources


def yaml_docs(path: Path) -> list[dict]:
    with path.open() as f:
        return [d for d in yaml.safe_load_all(f) if isinstance(d, dict)]


def walk_strings(node, out: list[str]) -> None:
    """Every key and scalar of a parsed YAML tree, as text."""
    if isinstance(node, dict):
        for key, value in node.items():
            out.append(str(key))
            walk_strings(value, out)
    elif isinstance(node, list):
        for item in node:
            walk_strings(item, out)
    elif node is not None:
        out.append(str(node))


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the final stage, continuation lines joined, comments dropped."""
    lines, current = [], ""
    for raw in path.read_text().splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    if current:
        lines.append(current)
    stage: list[tuple[str, str]] = []
    for line in lines:
        instruction, _, rest = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            stage = []
        stage.append((instruction, rest.strip()))
    return stage


def exec_form(text: str) -> list[str]:
    text = text.strip()
    if text.startswith("["):
        return [str(x) for x in json.loads(text)]
    return ["/bin/sh", "-c", text]


def dockerfile_image() -> dict:
    env: dict[str, str] = {}
    entrypoint: list[str] = []
    cmd: list[str] = []
    healthcheck: list[str] = []
    for instruction, rest in dockerfile_instructions(DOCKERFILE):
        if instruction == "ENV":
            parts = shlex.split(rest)
            if parts and "=" not in parts[0]:  # legacy `ENV KEY value`
                env[parts[0]] = " ".join(parts[1:])
            else:
                for part in parts:
                    key, _, value = part.partition("=")
                    env[key] = value
        elif instruction == "ENTRYPOINT":
            entrypoint = exec_form(rest)
        elif instruction == "CMD":
            cmd = exec_form(rest)
        elif instruction == "HEALTHCHECK":
            _, _, command = rest.partition("CMD ")
            if command:
                healthcheck = exec_form(command)
    return {"env": env, "entrypoint": entrypoint, "cmd": cmd, "healthcheck": healthcheck}


# ---------------------------------------------------------------------------------------------
# The binaries


class Cli:
    """Flags of a clap binary, read from its --help."""

    FLAG = re.compile(r"^\s*(?:-[A-Za-z], )?(--[a-z0-9][a-z0-9-]*)(?:[ =]<([^>]+)>)?")

    def __init__(self, binary: str):
        self.binary = binary
        self._help: dict[tuple[str, ...], dict[str, bool] | None] = {}

    def flags(self, *subcommand: str) -> dict[str, bool] | None:
        """flag -> takes a value, for `binary subcommand --help`; None if no such subcommand."""
        if subcommand not in self._help:
            done = subprocess.run([self.binary, *subcommand, "--help"], capture_output=True, text=True)
            if done.returncode != 0:
                self._help[subcommand] = None
            else:
                flags = {}
                for line in done.stdout.splitlines():
                    match = self.FLAG.match(line)
                    if match:
                        flags[match.group(1)] = match.group(2) is not None
                self._help[subcommand] = flags
        return self._help[subcommand]

    def subcommands(self) -> list[str]:
        done = subprocess.run([self.binary, "--help"], capture_output=True, text=True, check=True)
        names, inside = [], False
        for line in done.stdout.splitlines():
            if line.startswith("Commands:"):
                inside = True
                continue
            if inside:
                if not line.startswith("  "):
                    break
                names.append(line.split()[0])
        return [n for n in names if n != "help"]

    def parse(self, argv: list[str], where: str) -> tuple[str | None, list[tuple[str, str | None]]]:
        """Checks argv (after the binary) flag by flag; returns (subcommand, [(flag, value)])."""
        global_flags = self.flags() or {}
        subcommands = self.subcommands()
        subcommand, parsed, i = None, [], 0
        while i < len(argv):
            token = argv[i]
            if token.startswith("--"):
                name, eq, inline = token.partition("=")
                known = self.flags(subcommand) if subcommand else global_flags
                if known is None or name not in known:
                    scope = f"{Path(self.binary).name} {subcommand or ''}".strip()
                    fail(f"{where}: {scope} has no flag {name} (see `{scope} --help`)")
                    i += 1
                    continue
                value = None
                if known[name]:
                    if eq:
                        value = inline
                    elif i + 1 < len(argv):
                        value = argv[i + 1]
                        i += 1
                    else:
                        fail(f"{where}: {name} needs a value")
                parsed.append((name, value))
            elif subcommand is None:
                if token not in subcommands:
                    fail(f"{where}: {Path(self.binary).name} has no subcommand {token!r} (it has {', '.join(subcommands)})")
                    return None, parsed
                subcommand = token
            i += 1
        return subcommand, parsed


def reference(server: str) -> dict[str, dict]:
    """Environment variable -> {keys, default} from `catalog-server config --reference`."""
    text = subprocess.run([server, "config", "--reference"], capture_output=True, text=True, check=True).stdout
    names: dict[str, dict] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        key = cells[0].strip("`")
        default = cells[2].strip("`") if cells[2].startswith("`") else None
        for name in re.findall(r"`([A-Z0-9_]+)`", cells[1]):
            entry = names.setdefault(name, {"keys": [], "default": default})
            entry["keys"].append(key)
    return names


PLAUSIBLE = {
    "DOCSTOKG_RDS_URL": "postgresql://catalog:placeholder@127.0.0.1:5432/catalog",
    "DOCSTOKG_POSTGRES_URL": "postgresql://catalog:placeholder@127.0.0.1:5432/catalog",
    "DOCSTOKG_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9000",
    "AWS_ACCESS_KEY_ID": "AKIAPLACEHOLDER",
    "AWS_SECRET_ACCESS_KEY": "placeholder-secret",
    "AWS_REGION": "eu-west-1",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "DOCSTOKG_METRICS_LISTEN": "127.0.0.1:9464",
    "DOCSTOKG_S3_BUCKET": "placeholder-bucket",
    "DOCSTOKG_AUTH_TOKEN_FILE": "/run/secrets/placeholder-token",
}


def plausible(name: str, refs: dict[str, dict]) -> str:
    if name in PLAUSIBLE:
        return PLAUSIBLE[name]
    default = refs.get(name, {}).get("default")
    if default:
        return default
    if name.endswith("_LISTEN"):
        return "127.0.0.1:0"
    return "placeholder"


def rendered_sources(output: str) -> dict[str, str]:
    """dotted key -> source, from the YAML that `catalog-server config` prints."""
    sources: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for line in output.splitlines():
        match = re.match(r"^( *)([a-z0-9_]+):(.*)$", line)
        if not match:
            continue
        indent, key, rest = len(match.group(1)), match.group(2), match.group(3)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        dotted = ".".join([k for _, k in stack] + [key])
        if rest.strip() == "":
            stack.append((indent, key))
        else:
            _, hash_, source = rest.rpartition("  # ")
            sources[dotted] = source.strip() if hash_ else "?"
    return sources


def flatten_yaml(node, prefix: str = "") -> list[str]:
    keys = []
    if isinstance(node, dict):
        for key, value in node.items():
            dotted = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                keys.extend(flatten_yaml(value, dotted))
            else:
                keys.append(dotted)
    return keys


# ---------------------------------------------------------------------------------------------
# env-flags


class Context:
    """One container that runs catalog-server: its environment, argv and config files."""

    def __init__(self, where: str, env: dict[str, str | None], argv: list[str],
                 files: dict[str, tuple[Path, str]]):
        self.where = where
        self.env = env  # name -> value (None: from a Secret, unknown here)
        self.argv = argv
        self.files = files  # container path -> (local file with its content, where it comes from)


def compose_contexts(rendered: Path, image: dict) -> tuple[list[Context], list[tuple[str, list[str]]]]:
    config = yaml.safe_load(rendered.read_text()) or {}
    if not config.get("services"):
        fail(f"{rendered}: no services in the rendered compose file")
    contexts, ctl_calls = [], []
    for name, service in (config.get("services") or {}).items():
        where = f"compose service {name}"
        dockerfile = str((service.get("build") or {}).get("dockerfile", ""))
        ours = dockerfile.endswith("deploy/Dockerfile") or "catalog-server" in str(service.get("image", ""))
        health = (service.get("healthcheck") or {}).get("test")
        if isinstance(health, str):
            health = ["CMD-SHELL", health]
        if health and health[0] in ("CMD", "CMD-SHELL"):
            argv = health[1:] if health[0] == "CMD" else shlex.split(health[1])
            if argv and Path(argv[0]).name == "catalogctl":
                ctl_calls.append((f"{where} healthcheck", argv[1:]))
        if not ours:
            continue
        env = dict(image["env"])
        environment = service.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(item.partition("=")[::2] for item in environment)
        env.update({k: ("" if v is None else str(v)) for k, v in environment.items()})
        entrypoint = service.get("entrypoint", image["entrypoint"])
        command = service.get("command", image["cmd"])
        if isinstance(entrypoint, str):
            entrypoint = shlex.split(entrypoint)
        if isinstance(command, str):
            command = shlex.split(command)
        files = {}
        for volume in service.get("volumes") or []:
            if isinstance(volume, str):
                parts = volume.split(":")
                volume = {"type": "bind" if parts[0].startswith(("/", ".")) else "volume",
                          "source": parts[0], "target": parts[1] if len(parts) > 1 else parts[0]}
            if volume.get("type") == "bind":
                source = Path(str(volume["source"]))
                files[str(volume["target"])] = (source, rel(source))
        contexts.append(Context(where, env, list(entrypoint) + list(command), files))
    return contexts, ctl_calls


def pod_specs(doc: dict):
    kind = doc.get("kind")
    spec = doc.get("spec") or {}
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        return (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec")
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        return (spec.get("template") or {}).get("spec")
    return None


def kube_docs() -> list[tuple[Path, dict]]:
    docs = []
    for path in sorted(KUBE.glob("*.yaml")):
        for doc in yaml_docs(path):
            if doc.get("kind") != "Kustomization":
                docs.append((path, doc))
    return docs


def kube_contexts(image: dict, tmp: Path) -> tuple[list[Context], list[tuple[str, list[str]]]]:
    docs = kube_docs()
    config_maps = {d["metadata"]["name"]: d.get("data") or {} for _, d in docs if d.get("kind") == "ConfigMap"}
    secrets = {d["metadata"]["name"]: {**(d.get("stringData") or {}), **(d.get("data") or {})}
               for _, d in docs if d.get("kind") == "Secret"}
    contexts, ctl_calls = [], []
    for path, doc in docs:
        spec = pod_specs(doc)
        if not spec:
            continue
        volumes = {v["name"]: v for v in spec.get("volumes") or []}
        for container in spec.get("containers", []) + spec.get("initContainers", []):
            where = f"{rel(path)} {doc['kind']}/{doc['metadata']['name']} container {container['name']}"
            for probe_name in ("readinessProbe", "livenessProbe", "startupProbe"):
                command = ((container.get(probe_name) or {}).get("exec") or {}).get("command")
                if command and Path(command[0]).name == "catalogctl":
                    ctl_calls.append((f"{where} {probe_name}", command[1:]))
            if "catalog-server" not in str(container.get("image", "")):
                continue
            env: dict[str, str | None] = dict(image["env"])
            for source in container.get("envFrom") or []:
                data = {}
                if "configMapRef" in source:
                    data = config_maps.get(source["configMapRef"]["name"], {})
                elif "secretRef" in source:
                    data = {k: None for k in secrets.get(source["secretRef"]["name"], {})}
                prefix = source.get("prefix", "")
                env.update({prefix + k: (None if v is None else str(v)) for k, v in data.items()})
            for item in container.get("env") or []:
                if "value" in item:
                    env[item["name"]] = str(item["value"])
                else:
                    ref = (item.get("valueFrom") or {}).get("configMapKeyRef")
                    if ref and ref["key"] in config_maps.get(ref["name"], {}):
                        env[item["name"]] = str(config_maps[ref["name"]][ref["key"]])
                    else:
                        env[item["name"]] = None
            argv = list(container.get("command") or image["entrypoint"]) + list(
                container.get("args") if "args" in container else ([] if "command" in container else image["cmd"]))
            files: dict[str, tuple[Path, str]] = {}
            for mount in container.get("volumeMounts") or []:
                volume = volumes.get(mount["name"], {})
                config_map = volume.get("configMap")
                if not config_map:
                    continue
                data = config_maps.get(config_map["name"])
                if data is None:
                    continue
                items = {i["key"]: i["path"] for i in config_map.get("items") or []} or {k: k for k in data}
                for key, file_name in items.items():
                    if mount.get("subPath"):
                        if mount["subPath"] != file_name:
                            continue
                        target = mount["mountPath"]
                    else:
                        target = f"{mount['mountPath'].rstrip('/')}/{file_name}"
                    local = tmp / f"{config_map['name']}-{key}"
                    local.write_text(str(data[key]))
                    files[target] = (local, f"ConfigMap {config_map['name']} key {key}")
            contexts.append(Context(where, env, argv, files))
    return contexts, ctl_calls


def check_names(refs: dict[str, dict]) -> None:
    mentioned: dict[str, set[str]] = {}
    sources: list[tuple[str, list[str]]] = []
    dockerfile_text = [line for line in DOCKERFILE.read_text().splitlines() if not line.strip().startswith("#")]
    sources.append((rel(DOCKERFILE), dockerfile_text))
    for path in [COMPOSE, *sorted(KUBE.glob("*.yaml"))]:
        strings: list[str] = []
        for doc in yaml_docs(path):
            walk_strings(doc, strings)
        sources.append((rel(path), strings))
    for where, strings in sources:
        for text in strings:
            for name in NAME_RE.findall(text):
                mentioned.setdefault(name, set()).add(where)
    unknown = sorted(n for n in mentioned if n not in refs)
    for name in unknown:
        fail(f"{name} (in {', '.join(sorted(mentioned[name]))}) is not a variable of "
             f"`catalog-server config --reference`: the server would ignore it")
    known = sorted(n for n in mentioned if n in refs)
    if known:
        ok(f"{len(known)} variables are catalog-server's: {', '.join(known)}")


def check_context(context: Context, server: Cli, refs: dict[str, dict]) -> None:
    argv = context.argv
    if not argv or Path(argv[0]).name != "catalog-server":
        warn(f"{context.where}: does not run catalog-server ({argv[:1]}); skipped")
        return
    subcommand, flags = server.parse(argv[1:], context.where)
    if subcommand is None:
        fail(f"{context.where}: no catalog-server subcommand in {argv}")
        return
    shown_flags = " ".join(f if v is None else f"{f} {v}" for f, v in flags)
    ok(f"{context.where}: catalog-server {subcommand} {shown_flags}".rstrip() + " (flags known)")
    # The runs of `catalog-server config` that reproduce what this container loads.
    runs: list[list[str]] = []
    if subcommand in ("serve", "config"):
        args = []
        for flag, value in flags:
            if flag in ("--config", "--provider", "--listen", "--log-format"):
                args += [flag, value or ""]
        runs.append(args)
    elif subcommand == "migrate":
        values = dict(flags)
        for side in ("from", "to"):
            args = []
            if values.get(f"--{side}-config"):
                args += ["--config", values[f"--{side}-config"]]
            if values.get(f"--{side}-provider"):
                args += ["--provider", values[f"--{side}-provider"]]
            runs.append(args)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    for name, value in context.env.items():
        env[name] = plausible(name, refs) if value is None else value
    checked = [n for n in context.env if NAME_RE.fullmatch(n)]
    for args in runs:
        file_keys: list[str] = []
        label = f"{context.where}: catalog-server config {' '.join(args)}".rstrip()
        if "--config" in args:
            index = args.index("--config") + 1
            container_path = args[index]
            local, origin = context.files.get(container_path, (None, ""))
            if local is None or not local.is_file():
                fail(f"{context.where}: --config {container_path} is not mounted from a file this check can read")
                continue
            label += f" ({origin})"
            args = args[:index] + [str(local)] + args[index + 1:]
            file_keys = flatten_yaml(yaml.safe_load(local.read_text()) or {})
        done = subprocess.run([server.binary, "config", *args], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            fail(f"{label} failed: {done.stderr.strip() or done.stdout.strip()}")
            continue
        sources = rendered_sources(done.stdout)
        shown = set(re.findall(r"#\s+env\s+([A-Z0-9_]+)\s*$", done.stdout, re.M))
        good = []
        for name in checked:
            if name in shown:
                good.append(name)
            elif name not in refs:
                fail(f"{label}: {name} is not a variable the server reads (unknown to `config --reference`)")
            else:
                winners = {key: sources.get(key, "?") for key in refs[name]["keys"]}
                fail(f"{label}: {name} is set but is not the source of any value: "
                     + ", ".join(f"{k} comes from {s}" for k, s in winners.items()))
        if good:
            ok(f"{label}: source of {len(good)} values: {', '.join(good)}")
        for key in file_keys:
            source = sources.get(key)
            if source is None:
                continue  # unknown keys already fail `config`
            if source != "config file":
                warn(f"{label}: the file sets {key}, but {source} wins")


def check_ctl(ctl: Cli | None, calls: list[tuple[str, list[str]]]) -> None:
    for where, argv in calls:
        if ctl is None:
            warn(f"{where}: catalogctl {' '.join(argv)}: SKIPPED, no catalogctl binary to check its flags against")
            continue
        subcommand, flags = ctl.parse(argv, where)
        if subcommand:
            ok(f"{where}: catalogctl {' '.join(argv)} (flags known)")
        else:
            fail(f"{where}: no catalogctl subcommand in {argv}")


def env_flags(args) -> None:
    server = Cli(args.server)
    ctl = Cli(args.ctl) if args.ctl else None
    refs = reference(args.server)
    print("variable names:")
    check_names(refs)
    image = dockerfile_image()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        contexts = [Context(f"{rel(DOCKERFILE)} (image defaults)", dict(image["env"]),
                            image["entrypoint"] + image["cmd"], {})]
        ctl_calls = [(f"{rel(DOCKERFILE)} HEALTHCHECK", image["healthcheck"][1:])] if image["healthcheck"] else []
        more, calls = compose_contexts(Path(args.compose_rendered), image)
        contexts += more
        ctl_calls += calls
        more, calls = kube_contexts(image, tmp)
        contexts += more
        ctl_calls += calls
        print("containers running catalog-server (environment, flags, config files):")
        for context in contexts:
            check_context(context, server, refs)
        print("catalogctl calls:")
        check_ctl(ctl, ctl_calls)


# ---------------------------------------------------------------------------------------------
# kubernetes


def matches(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in (selector or {}).items())


def kubernetes(_args) -> None:
    docs = kube_docs()
    by_kind: dict[str, dict[str, dict]] = {}
    for _, doc in docs:
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    workloads = [(d, pod_specs(d)) for _, d in docs if pod_specs(d)]
    kustomization = yaml.safe_load((KUBE / "kustomization.yaml").read_text())
    for resource in kustomization.get("resources", []):
        if (KUBE / resource).is_file():
            ok(f"kustomization: {resource} exists")
        else:
            fail(f"kustomization: {resource} does not exist")
    images = {i["name"] for i in kustomization.get("images", [])}
    for doc, spec in workloads:
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        template_labels = ((doc.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels", {})
        selector = ((doc.get("spec") or {}).get("selector") or {}).get("matchLabels")
        if doc["kind"] == "Deployment":
            if selector and matches(selector, template_labels):
                ok(f"{name}: selector matches its pod labels")
            else:
                fail(f"{name}: selector {selector} does not match the pod labels {template_labels}")
        account = spec.get("serviceAccountName")
        if account and account not in by_kind.get("ServiceAccount", {}):
            fail(f"{name}: service account {account} is not defined")
        for volume in spec.get("volumes") or []:
            if "configMap" in volume and volume["configMap"]["name"] not in by_kind.get("ConfigMap", {}):
                fail(f"{name}: ConfigMap {volume['configMap']['name']} is not defined")
        for container in spec.get("containers", []):
            ports = {p.get("name"): p["containerPort"] for p in container.get("ports") or []}
            image = str(container.get("image", "")).rsplit(":", 1)[0]
            if images and image not in images:
                fail(f"{name}: image {image} is not in the kustomization's images")
            for item in container.get("env") or []:
                ref = (item.get("valueFrom") or {}).get("secretKeyRef")
                if not ref:
                    continue
                secret = by_kind.get("Secret", {}).get(ref["name"])
                if secret is None:
                    warn(f"{name}: Secret {ref['name']} is not among the manifests (created by hand, as documented)")
                elif ref["key"] not in {**(secret.get("stringData") or {}), **(secret.get("data") or {})}:
                    fail(f"{name}: Secret {ref['name']} (example) has no key {ref['key']}")
            for probe_name in ("readinessProbe", "livenessProbe", "startupProbe"):
                probe = container.get(probe_name)
                if not probe:
                    continue
                for kind in ("grpc", "tcpSocket", "httpGet"):
                    if kind not in probe:
                        continue
                    port = probe[kind]["port"]
                    if (isinstance(port, str) and port not in ports) or (isinstance(port, int) and port not in ports.values()):
                        fail(f"{name}: {probe_name} port {port} is not a container port")
                    elif kind == "grpc" and probe["grpc"].get("service", "") not in HEALTH_SERVICES:
                        asked = probe["grpc"]["service"]
                        fail(f"{name}: {probe_name} asks about service {asked!r}; "
                             f"the server reports {HEALTH_SERVICES}")
                    else:
                        ok(f"{name}: {probe_name} ({kind} {port}) hits a container port")
    pods = [(d, ((d.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels", {}), s)
            for d, s in workloads if d["kind"] == "Deployment"]
    for name, service in by_kind.get("Service", {}).items():
        targets = [(d, s) for d, labels, s in pods if matches(service["spec"].get("selector"), labels)]
        if not targets:
            fail(f"Service/{name}: selects no Deployment's pods")
            continue
        container_ports = {p.get("name") for _, s in targets for c in s["containers"] for p in c.get("ports") or []}
        for port in service["spec"]["ports"]:
            if isinstance(port.get("targetPort"), str) and port["targetPort"] not in container_ports:
                fail(f"Service/{name}: targetPort {port['targetPort']} is not a container port name")
        ok(f"Service/{name}: selects Deployment/{targets[0][0]['metadata']['name']}, target ports exist")
    for kind in ("PodDisruptionBudget",):
        for name, doc in by_kind.get(kind, {}).items():
            selector = doc["spec"]["selector"].get("matchLabels")
            if any(matches(selector, labels) for _, labels, _ in pods):
                ok(f"{kind}/{name}: selects the Deployment's pods")
            else:
                fail(f"{kind}/{name}: selects no Deployment's pods")
    for name, doc in by_kind.get("HorizontalPodAutoscaler", {}).items():
        target = doc["spec"]["scaleTargetRef"]
        deployment = by_kind.get(target["kind"], {}).get(target["name"])
        if deployment is None:
            fail(f"HorizontalPodAutoscaler/{name}: scale target {target['kind']}/{target['name']} is not defined")
            continue
        uses_cpu = any(m.get("resource", {}).get("name") == "cpu" for m in doc["spec"].get("metrics", []))
        requests = [c.get("resources", {}).get("requests", {}).get("cpu") for c in pod_specs(deployment)["containers"]]
        if uses_cpu and not all(requests):
            fail(f"HorizontalPodAutoscaler/{name}: CPU utilisation needs a CPU request on every container")
        elif doc["spec"]["minReplicas"] > doc["spec"]["maxReplicas"]:
            fail(f"HorizontalPodAutoscaler/{name}: minReplicas > maxReplicas")
        else:
            ok(f"HorizontalPodAutoscaler/{name}: targets {target['kind']}/{target['name']}, CPU requests set")
    for name, monitor in by_kind.get("ServiceMonitor", {}).items():
        selected = [s for s in by_kind.get("Service", {}).values()
                    if matches(monitor["spec"]["selector"].get("matchLabels"), s["metadata"].get("labels", {}))]
        if not selected:
            fail(f"ServiceMonitor/{name}: selects no Service")
            continue
        port_names = {p.get("name") for s in selected for p in s["spec"]["ports"]}
        for endpoint in monitor["spec"]["endpoints"]:
            if endpoint.get("port") not in port_names:
                fail(f"ServiceMonitor/{name}: endpoint port {endpoint.get('port')} is not a port of the selected Service")
        job_label = monitor["spec"].get("jobLabel")
        if job_label:
            jobs = {s["metadata"].get("labels", {}).get(job_label) for s in selected}
        else:
            jobs = {s["metadata"]["name"] for s in selected}
        if jobs != {"catalog"}:
            fail(f"ServiceMonitor/{name}: the scrape job would be {sorted(map(str, jobs))}, alerts.yml expects job=\"catalog\"")
        else:
            ok(f"ServiceMonitor/{name}: selects Service/{selected[0]['metadata']['name']}, port names exist, job=\"catalog\"")


# ---------------------------------------------------------------------------------------------
# metrics


def documented_metrics() -> dict[str, str]:
    text = (ROOT / "docs" / "operations.md").read_text()
    metrics = {}
    for name, kind in re.findall(r"^\|\s*`(catalog_[a-z0-9_]+)`\s*\|\s*(counter|gauge|histogram)\s*\|", text, re.M):
        metrics[name] = kind
    return metrics


def metric_names(expr: str) -> set[str]:
    return set(re.findall(r"\b(catalog_[a-z0-9_]+)\b", expr))


def known_metric(name: str, metrics: dict[str, str]) -> bool:
    if name in metrics:
        return metrics[name] != "histogram"
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and metrics.get(name[: -len(suffix)]) == "histogram":
            return True
    return False


def anchors(markdown: str) -> set[str]:
    found = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*$", markdown, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        found.add(slug)
    return found


def metrics(args) -> None:
    documented = documented_metrics()
    if len(documented) < 10:
        fail(f"docs/operations.md lists only {len(documented)} metrics in its table")
        return
    ok(f"docs/operations.md documents {len(documented)} metrics")
    alerts = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    rules = [r for g in alerts["groups"] for r in g["rules"]]
    dashboard = json.loads((DEPLOY / "grafana" / "catalog-dashboard.json").read_text())
    exprs = []

    def collect(panels):
        for panel in panels:
            for target in panel.get("targets", []):
                if target.get("expr"):
                    exprs.append((panel.get("title", "?"), target["expr"]))
            collect(panel.get("panels", []))

    collect(dashboard.get("panels", []))
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        if isinstance(query, dict):
            query = query.get("query")
        if variable.get("type") == "query" and query:
            exprs.append((f"variable {variable['name']}", query))
    for where, items in (("alerts.yml", [(r["alert"], r["expr"]) for r in rules]), ("dashboard", exprs)):
        bad = sorted({(title, n) for title, e in items for n in metric_names(e) if not known_metric(n, documented)})
        for title, name in bad:
            fail(f"{where} ({title}): {name} is not in docs/operations.md's metric table")
        if not bad:
            ok(f"{where}: every catalog_* metric of {len(items)} queries is documented")
    used = {known for _, e in exprs for n in metric_names(e) for known in documented
            if n == known or n.startswith(known + "_")}
    missing = sorted(set(documented) - used)
    if missing:
        warn(f"dashboard shows no panel for {', '.join(missing)}")
    # Dashboard queries parse: checked by promtool as recording rules.
    queries = []
    for _title, expr in exprs:
        if expr.startswith("label_values("):
            inner = re.match(r"label_values\((.*),\s*\w+\)$", expr)
            expr = inner.group(1) if inner else expr
        expr = expr.replace("$__rate_interval", "5m")
        expr = re.sub(r"\$\{?(\w+)\}?", ".*", expr)
        queries.append({"record": f"dashboard:query_{len(queries)}", "expr": expr})
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": queries}]}, f)
        rules_file = f.name
    done = subprocess.run([args.promtool, "check", "rules", rules_file], capture_output=True, text=True)
    os.unlink(rules_file)
    if done.returncode == 0:
        ok(f"dashboard: all {len(queries)} queries parse (promtool check rules)")
    else:
        fail(f"dashboard: a query does not parse: {done.stdout.strip()} {done.stderr.strip()}")
    # Every alert has a test that fires it, and a runbook section.
    tests = yaml.safe_load((DEPLOY / "prometheus" / "alerts_test.yml").read_text())
    fired = {t["alertname"] for case in tests["tests"] for t in case.get("alert_rule_test", []) if t.get("exp_alerts")}
    sections = anchors((ROOT / "docs" / "operations.md").read_text())
    for rule in rules:
        name = rule["alert"]
        if name not in fired:
            fail(f"alerts.yml: {name} has no firing case in alerts_test.yml")
        runbook = rule.get("annotations", {}).get("runbook_url", "")
        anchor = runbook.partition("#")[2]
        if not runbook.startswith("docs/operations.md#") or anchor not in sections:
            fail(f"alerts.yml: {name}'s runbook_url {runbook!r} is not a section of docs/operations.md")
        elif not {"summary", "description"} <= set(rule.get("annotations", {})):
            fail(f"alerts.yml: {name} lacks a summary or description")
        elif name in fired:
            ok(f"alerts.yml: {name} has a firing test, a summary, a description and runbook #{anchor}")
    # One job name everywhere.
    prometheus = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    jobs = {c["job_name"] for c in prometheus["scrape_configs"] if "catalog" in json.dumps(c)}
    alert_jobs = {j for r in rules for j in re.findall(r'job="([^"]+)"', r["expr"])}
    if jobs == alert_jobs == {"catalog"}:
        ok('prometheus.yml scrapes job "catalog", the job alerts.yml matches')
    else:
        fail(f"job names differ: prometheus.yml {sorted(jobs)}, alerts.yml {sorted(alert_jobs)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("env-flags")
    p.add_argument("--server", required=True)
    p.add_argument("--ctl")
    p.add_argument("--compose-rendered", required=True)
    sub.add_parser("kubernetes")
    p = sub.add_parser("metrics")
    p.add_argument("--promtool", default="promtool")
    args = parser.parse_args()
    {"env-flags": env_flags, "kubernetes": kubernetes, "metrics": metrics}[args.command](args)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
