#!/usr/bin/env bash
# Runs the W3C VC test suites against a Chopmark checkout over HTTPS on loopback: the workplace's
# ../shared/w3c-suites/run.sh, extended as its README asks once the project gained did:key issuers and
# per-instance key types (issue 11): the DI suites' issuers are did:key (Ed25519, P-256, P-384).
#   run.sh CHECKOUT SUITES_DIR [vcdm|eddsa|ecdsa|bsl ...]      (default: all four, one after the other)
# CHECKOUT: a Chopmark work tree (its .venv is built with `make .venv/.installed` when missing).
# SUITES_DIR: what setup.sh installed.
# Env:
#   PORT=40443               loopback port (40400-40499)
#   VERIFIER_CHECKS=         empty: the verifier gets no options (the service's default: every check,
#                            issuer binding included); e.g. "proof" sends options {checks: ["proof"]}
#   VC_VERSIONS=1.1,2.0      the VCDM versions the DI suites' issuers claim (manifest `supports.vc`)
#   INLINE_CONTEXTS=true     CHOPMARK_VERIFIER_INLINE_CONTEXTS for the server: the VCDM suite's inputs carry
#                            inline @context objects, which Chopmark refuses unless the verifier opts in
#   SHARED=../shared/w3c-suites   where summarize.py is
#   OUT=SUITES_DIR/results/<time>   per suite: SHORT.json (mocha JSON report), SHORT.summary (counts and
#                            every failing test), SHORT-server.log, SHORT-manifest.json, SHORT-data/ (the store)
# For each suite: a fresh data dir, issuers and tokens made with the chopmark CLI, `chopmark serve` with a
# self-signed certificate, localConfig.cjs written into the suite, mocha run, server stopped by its PID.
set -euo pipefail
CHECKOUT=$(cd "${1:?usage: run.sh CHECKOUT SUITES_DIR [suite ...]}" && pwd)
SUITES=$(cd "${2:?usage: run.sh CHECKOUT SUITES_DIR [suite ...]}" && pwd)
shift 2
WANTED=("$@"); [ ${#WANTED[@]} -gt 0 ] || WANTED=(vcdm eddsa ecdsa bsl)
PORT=${PORT:-40443}
VERIFIER_CHECKS=${VERIFIER_CHECKS:-}
VC_VERSIONS=${VC_VERSIONS:-1.1,2.0}
INLINE_CONTEXTS=${INLINE_CONTEXTS:-true}
SHARED=$(cd "${SHARED:-$CHECKOUT/../shared/w3c-suites}" && pwd)
OUT=${OUT:-$SUITES/results/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
CM="$CHECKOUT/.venv/bin/chopmark"
[ -x "$CM" ] || make -C "$CHECKOUT" .venv/.installed >/dev/null
BASE="https://127.0.0.1:$PORT"

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$OUT/key.pem" -out "$OUT/cert.pem" -days 2 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
export CHOPMARK_HOST=127.0.0.1 CHOPMARK_PORT=$PORT CHOPMARK_TLS_CERT_FILE=$OUT/cert.pem \
  CHOPMARK_TLS_KEY_FILE=$OUT/key.pem CHOPMARK_RATE_LIMIT_PER_MINUTE=0 CHOPMARK_WORKERS=2 \
  CHOPMARK_VERIFIER_INLINE_CONTEXTS=$INLINE_CONTEXTS
unset CHOPMARK_PUBLIC_URL CHOPMARK_STORE

SERVER_PID=
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID"
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$SERVER_PID" 2>/dev/null && kill -9 "$SERVER_PID"
  fi
  SERVER_PID=
}
trap stop_server EXIT INT TERM

# issuer NAME [chopmark issuer create flags] -> "DID TOKEN"
issuer() {
  local name=$1; shift
  local did token
  did=$("$CM" issuer create "$name" "$@" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["did"])')
  token=$("$CM" token create --issuer "$name" --scope issue,status --json |
          python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  echo "$did $token"
}

start_server() {  # $1: label
  export CHOPMARK_DATA_DIR="$OUT/$1-data"
  rm -rf "$CHOPMARK_DATA_DIR"; mkdir -p "$CHOPMARK_DATA_DIR"
  read -r VC2_DID VC2_TOKEN < <(issuer vc2 --suite eddsa-rdfc-2022)
  read -r EDKEY_DID EDKEY_TOKEN < <(issuer edkey --did-method key --key-type Ed25519 --no-status)
  read -r P256KEY_DID P256KEY_TOKEN < <(issuer p256key --did-method key --key-type P-256 --no-status)
  read -r P384KEY_DID P384KEY_TOKEN < <(issuer p384key --did-method key --key-type P-384 --no-status)
  read -r BSL_DID BSL_TOKEN < <(issuer bsl --suite eddsa-rdfc-2022)
  export VC2_DID VC2_TOKEN BSL_DID BSL_TOKEN \
    EDKEY_DID EDKEY_TOKEN P256KEY_DID P256KEY_TOKEN P384KEY_DID P384KEY_TOKEN
  "$CM" serve > "$OUT/$1-server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 60); do
    curl -skf "$BASE/.well-known/did.json" >/dev/null 2>&1 && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.5
  done
  echo "server did not start; see $OUT/$1-server.log" >&2; tail -5 "$OUT/$1-server.log" >&2; return 1
}

write_manifest() {  # -> $OUT/manifest.json (the implementation entry of localConfig.cjs)
  BASE=$BASE VERIFIER_CHECKS=$VERIFIER_CHECKS VC_VERSIONS=$VC_VERSIONS python3 - > "$OUT/manifest.json" <<'PY'
import json, os
e = os.environ
base, vcs = e["BASE"], [v for v in e["VC_VERSIONS"].split(",") if v]
checks = [c for c in e["VERIFIER_CHECKS"].split(",") if c]
def issuer(name, tags, suite=None, **extra):
    entry = {"id": e[f"{name.upper()}_DID"], "endpoint": f"{base}/issuers/{name}/credentials/issue",
             "headers": {"Authorization": f"Bearer {e[name.upper() + '_TOKEN']}"},
             "supports": {"vc": vcs}, "tags": tags, "options": {"cryptosuite": suite} if suite else {}}
    entry.update(extra)
    return entry
verifier_options = {"checks": checks} if checks else {}
manifest = {
    "name": "Chopmark", "implementation": "Chopmark",
    "issuers": [
        issuer("vc2", ["vc2.0"]),
        issuer("edkey", ["eddsa-rdfc-2022"], "eddsa-rdfc-2022"),
        issuer("edkey", ["eddsa-jcs-2022"], "eddsa-jcs-2022"),
        issuer("p256key", ["ecdsa-rdfc-2019"], "ecdsa-rdfc-2019", supportedEcdsaKeyTypes=["P-256"]),
        issuer("p384key", ["ecdsa-rdfc-2019"], "ecdsa-rdfc-2019", supportedEcdsaKeyTypes=["P-384"]),
        issuer("p256key", ["ecdsa-jcs-2019"], "ecdsa-jcs-2019", supportedEcdsaKeyTypes=["P-256"]),
        issuer("p384key", ["ecdsa-jcs-2019"], "ecdsa-jcs-2019", supportedEcdsaKeyTypes=["P-384"]),
        issuer("bsl", ["BitstringStatusList", "Revocation", "Suspension"]),
    ],
    "verifiers": [{"id": f"{base}/verifier", "endpoint": f"{base}/credentials/verify",
                   "supportedEcdsaKeyTypes": ["P-256", "P-384"], "supports": {"vc": vcs},
                   "tags": ["vc2.0", "eddsa-rdfc-2022", "eddsa-jcs-2022", "ecdsa-rdfc-2019", "ecdsa-jcs-2019",
                            "BitstringStatusList", "Revocation", "Suspension"],
                   "options": verifier_options}],
    "vpVerifiers": [{"id": f"{base}/verifier", "endpoint": f"{base}/presentations/verify", "tags": ["vc2.0"],
                     "options": {}}],
}
print(json.dumps(manifest, indent=2))
PY
}

run_suite() {  # $1: short name
  local short=$1 dir label
  case $short in
    vcdm)  dir=vc-data-model-2.0-test-suite;        label=vc-data-model-2.0 ;;
    eddsa) dir=vc-di-eddsa-test-suite;              label=vc-di-eddsa ;;
    ecdsa) dir=vc-di-ecdsa-test-suite;              label=vc-di-ecdsa ;;
    bsl)   dir=vc-bitstring-status-list-test-suite; label=vc-bitstring-status-list ;;
    *) echo "unknown suite $short (vcdm|eddsa|ecdsa|bsl)" >&2; return 2 ;;
  esac
  start_server "$short"
  write_manifest
  cp "$OUT/manifest.json" "$OUT/$short-manifest.json"
  cp "$OUT/manifest.json" "$SUITES/$dir/chopmark-manifest.json"
  cat > "$SUITES/$dir/localConfig.cjs" <<'JS'
module.exports = {
  settings: {enableInteropTests: true, testAllImplementations: false},
  implementations: [require('./chopmark-manifest.json')]
};
JS
  (cd "$SUITES/$dir" && ISSUER_NAME_JCS=Chopmark NODE_TLS_REJECT_UNAUTHORIZED=0 NODE_NO_WARNINGS=1 \
     timeout 1200 node_modules/.bin/mocha tests/ --timeout 15000 --preserve-symlinks \
       --reporter json --reporter-option "output=$OUT/$short.json" > "$OUT/$short.stdout" 2>&1) || true
  stop_server
  python3 "$SHARED/summarize.py" "$label" "$OUT/$short.json" --details > "$OUT/$short.summary" || true
  head -1 "$OUT/$short.summary"
}

echo "results in $OUT (verifier checks: ${VERIFIER_CHECKS:-service default}; VC versions: $VC_VERSIONS; inline contexts: $INLINE_CONTEXTS)"
for s in "${WANTED[@]}"; do run_suite "$s"; done
echo "failing tests: $OUT/*.summary"
