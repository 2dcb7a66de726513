#!/usr/bin/env bash
# Structural checks that the compiler cannot make.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
# VigilCore knows nothing of Kafka, YAML, logging backends or the runtime.
if grep -rnE '^\s*(public |internal |package |@_implementationOnly )?import (CRdKafka|VigilKafka|Yams|Logging|VigilRuntime|VigilPipeline)\b' Sources/VigilCore; then
    echo "validate: VigilCore must not import Kafka, YAML, logging or runtime modules" >&2
    status=1
fi
# Only VigilKafka talks to librdkafka.
if grep -rlnE '^\s*(public |internal |package )?import CRdKafka\b' Sources | grep -v '^Sources/VigilKafka/RDKafka/'; then
    echo "validate: only Sources/VigilKafka/RDKafka/ may import CRdKafka (all librdkafka pointer code lives there)" >&2
    status=1
fi
# Generated or local-only files stay out of git.
for f in Package.resolved .build; do
    if git ls-files --error-unmatch "$f" >/dev/null 2>&1; then
        echo "validate: $f is tracked by git" >&2
        status=1
    fi
done
# The sources are formatted with the checked-in .swift-format (`make format` applies it).
if command -v swift >/dev/null && swift format --version >/dev/null 2>&1; then
    if ! swift format lint --strict --recursive --parallel Sources Tests Benchmarks/Benchmarks Package.swift >/tmp/vigil-format-lint.txt 2>&1; then
        head -20 /tmp/vigil-format-lint.txt >&2
        echo "validate: sources are not formatted; run make format" >&2
        status=1
    fi
fi
exit $status
