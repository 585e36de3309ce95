#!/bin/sh
# autogen.sh: generate configure and Makefile.in from a git checkout.
set -eu
cd "$(dirname "$0")"
autoreconf -fi
