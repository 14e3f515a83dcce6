#!/usr/bin/env bash
# Debian packages hengqi's certificates need on a fresh machine (called by `make test` and .ci/run):
#   fonts-wqy-microhei  a TrueType CJK font (WenQuanYi Micro Hei) that ReportLab embeds (subset) in PDF
#                       certificates so their Chinese text renders anywhere (Noto CJK is CFF/OTF, which
#                       ReportLab cannot embed);
#   poppler-utils       pdftoppm / pdftotext, used by the tests to render and read back the PDF certificates;
#   chromium            the headless browser the web UI's tests drive with Playwright (/usr/bin/chromium);
#   wrk                 the C load generator of bench/bench_throughput.py (run short by `make test`).
# Installs only what is missing; needs root (the project's machines and CI run as root).
# `--runtime` (used by `make run`) installs only what the platform itself needs: the CJK font. Without root,
# `--runtime` only warns: the platform runs, and issuing a PDF certificate names the missing font.
set -euo pipefail

runtime_only=false
[ "${1:-}" = "--runtime" ] && runtime_only=true

missing=()
[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing+=(fonts-wqy-microhei)
if ! $runtime_only; then
  command -v pdftoppm >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  command -v wrk >/dev/null 2>&1 || missing+=(wrk)
fi

if [ "${#missing[@]}" -eq 0 ]; then
  echo "system packages: present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  if $runtime_only; then
    echo "warning: ${missing[*]} missing (needs root to install); PDF certificates need a CJK TrueType font" >&2
    exit 0
  fi
  echo "need root to apt-get install ${missing[*]} (or install them yourself)" >&2
  exit 1
fi
echo "installing system packages: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system packages: installed ${missing[*]}"
