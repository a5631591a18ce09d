"""The Kubernetes manifests (k8s/) and the image (Containerfile), checked without a cluster.

Each kustomization is rendered with `kubectl kustomize` as `kubectl apply -k` would, then:
- every object is validated against the Kubernetes API schemas bundled with kubernetes-validate, strictly
  (an unknown or misspelt field fails), for the oldest Kubernetes the manifests support and the newest the
  package knows;
- checkov's Kubernetes policies run on the rendered YAML, and its Dockerfile policies on the
  Containerfile; a failed check fails the test unless CHECKOV_SKIPS / CONTAINERFILE_CHECKOV_SKIPS below
  say why it is accepted;
- the relay.yaml in the rendered ConfigMap goes through the real `relayctl check-config` with the
  container's RELAY_* variables, as relayd in the pod would read it;
- paths, ports and the user agree between the relay configuration, the manifests and the Containerfile.

Needs kubectl (kustomize is built in), the PyPI packages kubernetes-validate and checkov (scripts/test
installs them; checkov into its own virtualenv, see checkov_command()), and relayctl built
(`swift build --product relayctl`, or $RELAYCTL_BIN).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path, PurePosixPath

import pytest

from relayd_harness import REPO_ROOT, relayctl_binary

try:
    import yaml
except ImportError:  # PyYAML comes with kubernetes-validate; failing here would stop the whole suite
    yaml = None

K8S = REPO_ROOT / "k8s"
KUSTOMIZATIONS = {
    "base": K8S / "base",
    "mastodon": K8S / "overlays" / "mastodon",
}
SERVICEMONITOR_COMPONENT = K8S / "components" / "servicemonitor"
# Shipped as an example of what to create by hand, not rendered by any kustomization.
EXAMPLE_MANIFESTS = [K8S / "base" / "secret.example.yaml"]
CONTAINERFILE = REPO_ROOT / "Containerfile"

# The oldest Kubernetes the manifests are written for: the preStop `sleep` handler is on by default
# from 1.30.
OLDEST_KUBERNETES = "1.30"

# Failed checkov checks that are accepted, by (check id, "Kind/name"), each with the reason. A skip
# whose check passes again fails the test, so the list cannot outlive its reason.
CHECKOV_SKIPS = {
    ("CKV_K8S_14", "StatefulSet/mail-relay"):
        "image tag is the `latest` placeholder: no image is published from this repository; deployers set "
        "their own registry and tag (best a digest) with kustomize `images:`, see docs/kubernetes.md",
    ("CKV_K8S_43", "StatefulSet/mail-relay"):
        "image digest: same placeholder; pinning a digest is the deployer's choice, made in their overlay",
}
# The same for checkov's Dockerfile policies on the Containerfile, by check id.
CONTAINERFILE_CHECKOV_SKIPS = {
    "CKV_DOCKER_2":
        "no HEALTHCHECK: Kubernetes ignores it and probes /livez and /readyz itself, and the image has no HTTP "
        "client to run one with",
}


# -- helpers ---------------------------------------------------------------------------------------

def kubectl_kustomize(path: Path) -> str:
    if shutil.which("kubectl") is None:
        pytest.fail("kubectl not found: it renders the kustomizations (kubectl kustomize)", pytrace=False)
    result = subprocess.run(["kubectl", "kustomize", str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"kubectl kustomize {path} failed:\n{result.stderr}"
    return result.stdout


def objects(text: str) -> list[dict]:
    if yaml is None:
        pytest.fail("PyYAML is not installed; python3 -m pip install kubernetes-validate (it brings PyYAML)",
                    pytrace=False)
    return [doc for doc in yaml.safe_load_all(text) if doc]


def ident(obj: dict) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def one(objs: list[dict], kind: str, name: str | None = None) -> dict:
    found = [o for o in objs if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {[ident(o) for o in found]}"
    return found[0]


def relayd_container(objs: list[dict]) -> dict:
    pod = one(objs, "StatefulSet")["spec"]["template"]["spec"]
    [container] = [c for c in pod["containers"] if c["name"] == "relayd"]
    return container


def container_port(container: dict, name: str) -> int:
    [port] = [p["containerPort"] for p in container["ports"] if p["name"] == name]
    return port


def mount_path(container: dict, volume: str) -> PurePosixPath:
    [path] = [m["mountPath"] for m in container["volumeMounts"] if m["name"] == volume]
    return PurePosixPath(path)


def volume(objs: list[dict], name: str) -> dict:
    [vol] = [v for v in one(objs, "StatefulSet")["spec"]["template"]["spec"]["volumes"] if v["name"] == name]
    return vol


def port_of(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def relay_env(container: dict) -> dict[str, str]:
    """The container's RELAY_* variables that relayd reads as settings (RELAY_CONFIG only names the file)."""
    env = {}
    for var in container.get("env", []):
        if var["name"].startswith("RELAY_") and var["name"] != "RELAY_CONFIG":
            assert "value" in var, f"{var['name']} comes from {var.get('valueFrom')}: the test cannot check it"
            env[var["name"]] = var["value"]
    return env


def config_volume_files(objs: list[dict]) -> dict[str, tuple[str, str, str]]:
    """Files of the projected volume `config`, by path inside it: (source kind, source name, key)."""
    files = {}
    for source in volume(objs, "config")["projected"]["sources"]:
        for kind in ("configMap", "secret"):
            if kind in source:
                for item in source[kind]["items"]:
                    files[item["path"]] = (kind, source[kind]["name"], item["key"])
    return files


def checkov_command() -> list[str]:
    """$CHECKOV_BIN, else the virtualenv scripts/test installs checkov into (its own, because checkov pins
    dozens of packages that would otherwise replace the test suite's), else checkov on PATH."""
    if os.environ.get("CHECKOV_BIN"):
        return [os.environ["CHECKOV_BIN"]]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    venv = cache / "mailrelay" / "checkov-venv" / "bin" / "checkov"
    if venv.is_file():
        return [str(venv)]
    if shutil.which("checkov"):
        return [shutil.which("checkov")]
    pytest.fail("checkov not found: scripts/test installs it (or: python3 -m venv V && V/bin/pip install checkov "
                "and set CHECKOV_BIN=V/bin/checkov)", pytrace=False)


# -- fixtures --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict]]:
    return {name: objects(kubectl_kustomize(path)) for name, path in KUSTOMIZATIONS.items()}


class EffectiveSettings:
    """`relayctl check-config` of a kustomization's relay.yaml with its container's RELAY_* variables: the
    settings relayd in that pod would run with, as check-config prints them (valid YAML). Run on first use
    per kustomization, so one refused configuration does not fail the other kustomization's tests."""

    def __init__(self, rendered: dict[str, list[dict]], relayctl: Path, tmp_path_factory):
        self.rendered, self.relayctl, self.tmp_path_factory = rendered, relayctl, tmp_path_factory
        self.cache: dict[str, dict] = {}

    def __getitem__(self, name: str) -> dict:
        if name not in self.cache:
            self.cache[name] = check_config(self.rendered[name], self.relayctl, self.tmp_path_factory.mktemp(name))
        return self.cache[name]


@pytest.fixture(scope="module")
def effective_settings(rendered, relayctl_bin, tmp_path_factory) -> EffectiveSettings:
    return EffectiveSettings(rendered, relayctl_bin, tmp_path_factory)


@pytest.fixture(scope="module")
def relayctl_bin() -> Path:
    path = relayctl_binary()
    if not path.is_file():
        pytest.fail(f"relayctl not found at {path}: run `swift build --product relayctl` or set RELAYCTL_BIN",
                    pytrace=False)
    return path


def check_config(objs: list[dict], relayctl: Path, tmp: Path) -> dict:
    files = config_volume_files(objs)
    kind, name, key = files["relay.yaml"]
    assert kind == "configMap", f"relay.yaml comes from a {kind}"
    configmap = one(objs, "ConfigMap", name)
    config_file = tmp / "relay.yaml"
    config_file.write_text(configmap["data"][key])

    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAY_")}
    env.update(relay_env(relayd_container(objs)))
    # check-config reads every password_file, as relayd does at start-up, and refuses a missing one. The
    # Secret's file exists only in the pod, so each one named is pointed at a stand-in here through its
    # RELAY_* variable; the file itself stays as rendered. test_config_paths_match_the_mounts checks that
    # the path named is where the Secret is mounted.
    raw = yaml.safe_load(config_file.read_text()) or {}
    stand_in = tmp / "upstream-password"
    stand_in.write_text("stand-in for the Secret\n")
    pod_password_file = env.get("RELAY_UPSTREAM_PASSWORD_FILE") or (raw.get("upstream") or {}).get("password_file")
    if pod_password_file:
        env["RELAY_UPSTREAM_PASSWORD_FILE"] = str(stand_in)
    for n, entry in enumerate(raw.get("upstreams") or []):
        if entry.get("password_file"):
            env["RELAY_UPSTREAM_PASSWORD_FILE" if n == 0 else f"RELAY_UPSTREAMS_{n}_PASSWORD_FILE"] = str(stand_in)

    result = subprocess.run([str(relayctl), "check-config", "--config", str(config_file)],
                            capture_output=True, text=True, env=env, cwd=tmp, timeout=60)
    assert result.returncode == 0, (
        f"relayctl check-config refused the rendered relay.yaml (ConfigMap {name}) with the container's "
        f"RELAY_* variables:\n{result.stderr}{result.stdout}")
    settings = yaml.safe_load(result.stdout)
    if pod_password_file:  # what the pod reads, not the stand-in
        settings["upstream"]["password_file"] = pod_password_file
    return settings


# -- rendering and schemas -------------------------------------------------------------------------

@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_kustomization_renders_namespaced_objects(rendered, name):
    objs = rendered[name]
    kinds = {o["kind"] for o in objs}
    for kind in ("StatefulSet", "Service", "ConfigMap", "NetworkPolicy", "PodDisruptionBudget", "ServiceAccount"):
        assert kind in kinds, f"{name}: no {kind} rendered"
    namespaces = {o["metadata"].get("namespace") for o in objs if o["kind"] != "Namespace"}
    assert len(namespaces) == 1 and None not in namespaces, f"{name}: objects in namespaces {namespaces}"


def test_mastodon_overlay_lives_in_mastodon_without_owning_the_namespace(rendered):
    objs = rendered["mastodon"]
    assert {o["metadata"]["namespace"] for o in objs} == {"mastodon"}
    assert not [o for o in objs if o["kind"] == "Namespace"], "`kubectl delete -k` would delete Mastodon"


def kubernetes_versions() -> list[str]:
    kubernetes_validate = _import_kubernetes_validate()
    newest = ".".join(kubernetes_validate.latest_version().split(".")[:2])
    return [OLDEST_KUBERNETES] if newest == OLDEST_KUBERNETES else [OLDEST_KUBERNETES, newest]


def _import_kubernetes_validate():
    try:
        import kubernetes_validate
    except ImportError as e:  # scripts/test installs it
        pytest.fail(f"kubernetes-validate is not installed ({e}); python3 -m pip install kubernetes-validate",
                    pytrace=False)
    return kubernetes_validate


@pytest.mark.parametrize("name", [*KUSTOMIZATIONS, "examples"])
def test_objects_validate_against_the_kubernetes_schemas(rendered, name):
    kubernetes_validate = _import_kubernetes_validate()
    objs = rendered[name] if name != "examples" else [o for p in EXAMPLE_MANIFESTS for o in objects(p.read_text())]
    problems = []
    for version in kubernetes_versions():
        for obj in objs:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as e:
                problems.append(f"{ident(obj)} for Kubernetes {version}: {e.message} at {'.'.join(map(str, e.path))}")
            except kubernetes_validate.SchemaNotFoundError:
                problems.append(f"{ident(obj)}: {obj['apiVersion']} {obj['kind']} does not exist in Kubernetes {version}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name, namespace", [("base", None), ("mastodon", "mastodon")])
def test_servicemonitor_component_scrapes_each_pod_once(name, namespace, tmp_path):
    """The component added as docs/kubernetes.md says: to the base in a kustomization that sets no
    namespace, or in an overlay, which sets its own. The ServiceMonitor must sit next to the Service and
    select exactly one Service that has the admin port (two would scrape each pod twice)."""
    include = tmp_path / "with-servicemonitor"
    include.mkdir()
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        # kustomize refuses absolute paths; relative ones may leave the folder.
        "resources": [os.path.relpath(KUSTOMIZATIONS[name], include)],
        "components": [os.path.relpath(SERVICEMONITOR_COMPONENT, include)],
    }
    if namespace:
        kustomization["namespace"] = namespace
    (include / "kustomization.yaml").write_text(json.dumps(kustomization))  # JSON is YAML
    objs = objects(kubectl_kustomize(include))
    monitor = one(objs, "ServiceMonitor")
    services = [o for o in objs if o["kind"] == "Service"]
    assert monitor["metadata"]["namespace"] == services[0]["metadata"]["namespace"]
    wanted = monitor["spec"]["selector"]["matchLabels"]
    ports = {e["port"] for e in monitor["spec"]["endpoints"]}
    scraped = [s["metadata"]["name"] for s in services
               if wanted.items() <= s["metadata"].get("labels", {}).items()
               and ports & {p["name"] for p in s["spec"]["ports"]}]
    assert scraped == ["mail-relay"], f"Services scraped through {ports}: {scraped}"
    assert ports == {"admin"} and {e["path"] for e in monitor["spec"]["endpoints"]} == {"/metrics"}


# -- checkov ---------------------------------------------------------------------------------------

def checkov(framework: str, path: Path) -> dict:
    """checkov's results for one file: {"passed_checks", "failed_checks", "skipped_checks", …}."""
    # --skip-download: no calls to the vendor's platform (there is no network in CI, and nothing to fetch).
    result = subprocess.run([*checkov_command(), "--framework", framework, "--file", str(path),
                             "--skip-download", "--output", "json"],
                            capture_output=True, text=True, timeout=600, cwd=path.parent)
    assert result.returncode in (0, 1), f"checkov exit {result.returncode}:\n{result.stderr}\n{result.stdout[:2000]}"
    report = json.loads(result.stdout)
    results = report["results"]
    assert not results["parsing_errors"], results["parsing_errors"]
    assert results["passed_checks"], f"checkov checked nothing in {path}: {report.get('summary')}"
    return results


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_checkov_finds_nothing_unexplained(name, tmp_path):
    manifest = tmp_path / f"{name}.yaml"
    manifest.write_text(kubectl_kustomize(KUSTOMIZATIONS[name]))
    results = checkov("kubernetes", manifest)

    def key(check: dict) -> tuple[str, str]:
        kind, _namespace, obj_name = check["resource"].split(".", 2)
        return check["check_id"], f"{kind}/{obj_name}"

    failed = {key(c): c["check_name"] for c in results["failed_checks"]}
    unexplained = [f"{check_id} {resource}: {title}" for (check_id, resource), title in failed.items()
                   if (check_id, resource) not in CHECKOV_SKIPS]
    assert not unexplained, "checkov failures: fix them, or add them to CHECKOV_SKIPS with the reason:\n" + \
        "\n".join(unexplained)
    stale = [f"{check_id} {resource}" for (check_id, resource) in CHECKOV_SKIPS if (check_id, resource) not in failed]
    assert not stale, f"these CHECKOV_SKIPS no longer fail in {name}; remove them: {stale}"
    # checkov.io/skip annotations in the manifests must give a reason too.
    silent = [key(c) for c in results["skipped_checks"] if not (c.get("check_result") or {}).get("suppress_comment")]
    assert not silent, f"checkov skips without a reason: {silent}"


def test_checkov_finds_nothing_unexplained_in_the_containerfile(tmp_path):
    dockerfile = tmp_path / "Dockerfile"  # checkov recognises Dockerfiles by name only
    shutil.copyfile(CONTAINERFILE, dockerfile)
    results = checkov("dockerfile", dockerfile)
    failed = {c["check_id"]: c["check_name"] for c in results["failed_checks"]}
    unexplained = [f"{check_id}: {title}" for check_id, title in failed.items()
                   if check_id not in CONTAINERFILE_CHECKOV_SKIPS]
    assert not unexplained, "checkov failures in the Containerfile: fix them, or add them to " \
        "CONTAINERFILE_CHECKOV_SKIPS with the reason:\n" + "\n".join(unexplained)
    stale = [check_id for check_id in CONTAINERFILE_CHECKOV_SKIPS if check_id not in failed]
    assert not stale, f"these CONTAINERFILE_CHECKOV_SKIPS no longer fail; remove them: {stale}"


# -- the relay configuration -----------------------------------------------------------------------

@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_rendered_relay_config_passes_check_config(effective_settings, name):
    settings = effective_settings[name]  # the fixture ran check-config and asserted its exit status
    assert settings["log"]["format"] == "json", "the cluster's log collector gets one JSON object per line"
    assert settings["upstream"]["host"], "a cluster relay relays; an empty upstream.host writes files instead"


def test_mastodon_overlay_sets_its_own_hostname(effective_settings):
    assert effective_settings["mastodon"]["hostname"] != effective_settings["base"]["hostname"]


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_config_paths_match_the_mounts(rendered, effective_settings, name):
    objs, settings = rendered[name], effective_settings[name]
    container = relayd_container(objs)
    env = {v["name"]: v.get("value") for v in container.get("env", [])}
    config_dir = mount_path(container, "config")
    files = config_volume_files(objs)

    assert PurePosixPath(env["RELAY_CONFIG"]) == config_dir / "relay.yaml"
    # The password file named by the configuration is the Secret's key in the mounted volume.
    password_file = PurePosixPath(settings["upstream"]["password_file"])
    assert password_file.is_relative_to(config_dir), f"{password_file} is not in the volume at {config_dir}"
    kind, secret, key = files[str(password_file.relative_to(config_dir))]
    assert kind == "secret" and secret == "mail-relay-upstream", (kind, secret, key)
    assert key == "upstream-password", "the key docs/kubernetes.md and secret.example.yaml tell to create"

    assert PurePosixPath(settings["spool"]["path"]) == mount_path(container, "spool")
    assert [t["metadata"]["name"] for t in one(objs, "StatefulSet")["spec"]["volumeClaimTemplates"]] == ["spool"]
    control = PurePosixPath(settings["listen"]["control"])
    assert control.parent == mount_path(container, "run") and "emptyDir" in volume(objs, "run")
    assert len(str(control).encode()) <= 107, "a Unix socket path is at most 107 bytes"


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_config_and_secret_changes_reach_the_running_pod(rendered, name):
    """relayd reloads a changed relay.yaml or password file (docs/kubernetes.md). That needs the kubelet to
    update the files in the pod: the ConfigMap keeps its name (a content hash in it would make an edit a new
    ConfigMap, which the pod does not see until it is replaced), and no mount of the volume uses subPath
    (a subPath mount is never updated)."""
    objs = rendered[name]
    files = config_volume_files(objs)
    kind, config_map, _ = files["relay.yaml"]
    assert kind == "configMap"
    assert config_map == "mail-relay-config", f"{config_map}: the generated name must not carry a content hash"
    assert ident(one(objs, "ConfigMap", "mail-relay-config")) == "ConfigMap/mail-relay-config"
    for container in one(objs, "StatefulSet")["spec"]["template"]["spec"]["containers"]:
        for mount in container.get("volumeMounts", []):
            if mount["name"] == "config":
                assert "subPath" not in mount and "subPathExpr" not in mount, mount


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_ports_agree_between_config_container_services_and_policy(rendered, effective_settings, name):
    objs, settings = rendered[name], effective_settings[name]
    container = relayd_container(objs)
    assert {port_of(a) for a in settings["listen"]["smtp"]} == {container_port(container, "smtp")}
    assert all(a.split(":")[0] in ("0.0.0.0", "[::]") for a in settings["listen"]["smtp"]), \
        "SMTP must listen on the pod's interfaces, not loopback"
    assert port_of(settings["listen"]["admin"]) == container_port(container, "admin")
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["port"] == "admin", probe
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"

    named = {p["name"] for p in container["ports"]}
    for service in (o for o in objs if o["kind"] == "Service"):
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in named, f"{ident(service)} targets {port['targetPort']}"
    clients = one(objs, "Service", "mail-relay")
    assert {p["name"]: p["port"] for p in clients["spec"]["ports"]}["smtp"] == 25
    annotations = clients["metadata"]["annotations"]
    assert int(annotations["prometheus.io/port"]) == container_port(container, "admin")
    assert annotations["prometheus.io/path"] == "/metrics"

    policy = one(objs, "NetworkPolicy")
    for rule in policy["spec"]["ingress"]:
        for port in rule["ports"]:
            assert port["port"] in named, f"NetworkPolicy admits unknown port {port['port']}"
    upstream_port = settings["upstream"]["port"]
    egress_ports = {p["port"] for rule in policy["spec"]["egress"] for p in rule["ports"]}
    assert upstream_port in egress_ports, f"the NetworkPolicy does not let upstream port {upstream_port} out"


# -- the Containerfile -----------------------------------------------------------------------------

def runtime_stage() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Containerfile's last stage, continuation lines joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in CONTAINERFILE.read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or (not stripped and not pending):
            continue
        pending += stripped
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        word, _, args = pending.partition(" ")
        instructions.append((word.upper(), args.strip()))
        pending = ""
    last_from = max(i for i, (word, _) in enumerate(instructions) if word == "FROM")
    return instructions[last_from:]


def test_containerfile_matches_the_manifests(rendered, effective_settings):
    stage = runtime_stage()
    objs, settings = rendered["base"], effective_settings["base"]
    container = relayd_container(objs)
    pod_security = one(objs, "StatefulSet")["spec"]["template"]["spec"]["securityContext"]

    def args(word: str) -> list[str]:
        return [a for w, a in stage if w == word]

    env = {}
    for line in args("ENV"):
        for assignment in shlex.split(line):
            k, _, v = assignment.partition("=")
            env[k] = v
    manifest_env = {v["name"]: v.get("value") for v in container["env"]}
    assert env["RELAY_CONFIG"] == manifest_env["RELAY_CONFIG"]
    [entrypoint] = [json.loads(a) for a in args("ENTRYPOINT")]
    assert entrypoint[entrypoint.index("--config") + 1] == env["RELAY_CONFIG"]
    assert PurePosixPath(entrypoint[0]).name == "relayd"

    [volume_arg] = args("VOLUME")
    assert PurePosixPath(volume_arg.strip('[]" ')) == mount_path(container, "spool") == \
        PurePosixPath(settings["spool"]["path"]), "VOLUME, the spool's mount and spool.path differ"
    exposed = {int(p.split("/")[0]) for a in args("EXPOSE") for p in a.split()}
    ports = {p["containerPort"] for p in container["ports"]}
    assert exposed == ports, f"EXPOSE {sorted(exposed)}, container ports {sorted(ports)}"

    [user] = args("USER")
    expected_user = f"{pod_security['runAsUser']}:{pod_security['runAsGroup']}"
    assert user == expected_user, f"USER {user}, runAsUser:runAsGroup {expected_user}"
    assert pod_security["fsGroup"] == pod_security["runAsGroup"]
    runs = " ".join(args("RUN"))
    for flag, value in (("--uid", pod_security["runAsUser"]), ("--gid", pod_security["runAsGroup"])):
        assert f"{flag} {value}" in runs, f"the image's relay user is not created with {flag} {value}"
    # Made in the image, owned by the relay user, so the image also works without these volumes.
    for directory in (settings["spool"]["path"], str(PurePosixPath(settings["listen"]["control"]).parent)):
        assert directory in runs, f"the image does not create {directory}"
