#!/usr/bin/env bash
# Checks what ships: the Kubernetes manifests against Kubernetes' own schemas (strict:
# unknown fields fail) and against what the server needs, the configuration they carry
# with the server's own loader, and the Dockerfile against the build script the tests run.
# Needs `scripts/setup.sh --tests` (the pinned kubernetes-validate) and a built
# target/debug/registry-dash.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/validate-venv
bin=${REGISTRY_DASH_BIN:-target/debug/registry-dash}

"$venv/bin/kubernetes-validate" --strict --quiet -k 1.33.0 deploy/kubernetes/*.yaml

"$venv/bin/python" - "$bin" <<'PY'
import os, subprocess, sys, tempfile, tomllib, yaml

bin_path = sys.argv[1]
docs = {}
for name in sorted(os.listdir("deploy/kubernetes")):
    with open(os.path.join("deploy/kubernetes", name)) as f:
        for doc in yaml.safe_load_all(f):
            docs[(doc["kind"], doc["metadata"]["name"])] = doc

problems = []
def need(ok, what):
    if not ok:
        problems.append(what)

deploy = docs[("Deployment", "registry-dash")]
spec = deploy["spec"]
pod = spec["template"]["spec"]
labels = spec["template"]["metadata"]["labels"]
container = pod["containers"][0]
need(spec["replicas"] >= 2, "the dashboard runs at least two replicas")
need(spec["selector"]["matchLabels"].items() <= labels.items(), "the Deployment selects its pods")
for kind in ("Service", "PodDisruptionBudget"):
    selector = docs[(kind, "registry-dash")]["spec"]["selector"]
    selector = selector.get("matchLabels", selector)
    need(selector.items() <= labels.items(), f"the {kind} selects the dashboard's pods")
need(container["readinessProbe"]["httpGet"]["path"] == "/readyz", "readiness probes /readyz")
need(container["livenessProbe"]["httpGet"]["path"] == "/healthz", "liveness probes /healthz")
security = container["securityContext"]
need(pod["securityContext"].get("runAsNonRoot") is True, "pods run as non-root")
need(security.get("readOnlyRootFilesystem") is True, "the root filesystem is read-only")
need(security.get("allowPrivilegeEscalation") is False, "no privilege escalation")
need(security.get("capabilities", {}).get("drop") == ["ALL"], "all capabilities dropped")
need("memory" in container["resources"]["limits"], "a memory limit")
need(all(k in container["resources"]["requests"] for k in ("cpu", "memory")), "requests")

config_text = docs[("ConfigMap", "registry-dash")]["data"]["config.toml"]
config = tomllib.loads(config_text)
grace = config.get("limits", {}).get("shutdown_grace_secs", 30)
need(pod["terminationGracePeriodSeconds"] > grace,
     "terminationGracePeriodSeconds exceeds shutdown_grace_secs")
secret = docs[("Secret", "registry-dash")]["stringData"]
need("REGISTRY_DASH_REDIS_URL" in secret, "replicas share Redis")
redis_password = docs[("Secret", "registry-dash-redis")]["stringData"]["REDIS_PASSWORD"]
need(f":{redis_password}@" in secret["REGISTRY_DASH_REDIS_URL"], "the Redis password matches")
env = {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}

# The server's own loader reads this configuration (exit 2 is a configuration error; the
# check of GitLab and Redis themselves fails here, having no network to reach them).
with tempfile.NamedTemporaryFile("w", suffix=".toml") as f:
    f.write(config_text)
    f.flush()
    run_env = {"PATH": os.environ["PATH"], **secret, **env, "REGISTRY_DASH_SITE_ROOT": "target/site"}
    result = subprocess.run([bin_path, "check-config", "--config", f.name], env=run_env,
                            capture_output=True, text=True, timeout=120)
    need(result.returncode != 2, "the server accepts the configuration: " + result.stderr.strip())
    need("configuration is valid" in result.stdout, "check-config read it: " + result.stdout)

dockerfile = open("Dockerfile").read()
need("RUN bash scripts/build-release.sh" in dockerfile, "the image builds with scripts/build-release.sh")
for path in ("target/release/registry-dash", "target/site"):
    need(f"/src/{path}" in dockerfile, f"the image takes {path} from the build")
need("USER 10001:10001" in dockerfile, "the image runs as the non-root user the pods expect")
release = open("scripts/build-release.sh").read()
for script in ("scripts/setup.sh", "scripts/build-site.sh"):
    need(f"bash {script}" in release, f"the release build runs {script}, as the tests do")

if problems:
    print("deploy check failed:\n  " + "\n  ".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"deploy: {len(docs)} Kubernetes resources valid; Dockerfile builds with scripts/build-release.sh")
PY
