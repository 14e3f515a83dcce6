#!/usr/bin/env bash
# Regenerate the example certificates in examples/certificates/ (signed PDF with the DCC attached, signed DCC)
# from the example calibration records, with a fresh throw-away test CA and signer (only their certificates are
# committed, never the private key).  Usage: scripts/make-example-certificates.sh [SCHEMA_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
schema_dir="${1:-../shared/dcc/xsd}"
hengqi=.venv/bin/hengqi
keys="$(mktemp -d)"
trap 'rm -rf "$keys"' EXIT
"$hengqi" certificate keygen --out "$keys" --cn "Li Wei" --org "Hengqi Mass Laboratory (example)" --days 3650
cp "$keys/ca-cert.pem" "$keys/signer-cert.pem" examples/certificates/test-keys/
issue() {  # record admin number
  "$hengqi" certificate issue "examples/calibration/$1.yaml" --admin "examples/certificates/$2" --embed-dcc \
    --schema-dir "$schema_dir" \
    --dcc "examples/certificates/$3.dcc.xml" --pdf "examples/certificates/$3.pdf" \
    --sign "$keys/signer-key.pem" --cert "$keys/signer-cert.pem"
  "$hengqi" certificate verify "examples/certificates/$3.pdf" --trust examples/certificates/test-keys/ca-cert.pem
}
issue analytical-balance-220g ADMIN.yaml HQ-CAL-2026-0418
issue bench-balance-6kg bench-balance-6kg.ADMIN.yaml HQ-CAL-2026-0391
issue truck-scale-60t truck-scale-60t.ADMIN.yaml HQ-CAL-2026-0340
# the verification certificate of a passed verification (PDF, the evaluated result attached as JSON)
"$hengqi" certificate verification examples/verification/truck-scale-class-iii-pass.yaml \
  --admin examples/certificates/truck-scale-verification.ADMIN.yaml --pdf examples/certificates/HQ-VER-2026-0057.pdf \
  --sign "$keys/signer-key.pem" --cert "$keys/signer-cert.pem"
"$hengqi" certificate verify examples/certificates/HQ-VER-2026-0057.pdf --trust examples/certificates/test-keys/ca-cert.pem
