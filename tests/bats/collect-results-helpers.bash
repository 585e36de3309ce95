# collect-results-helpers.bash: shared by collect-results.bats (test mode,
# everywhere) and kvm/results.bats. Writes run.json files and runs the pair.

# run_json FILE ARGV... : a run.json with the given argv (and $RUN_EXTRA,
# raw JSON members appended, e.g. '"files": ["/x"]').
run_json() {
	local file=$1
	shift
	python3 - "$file" "${RUN_EXTRA:-}" "$@" <<'PY'
import json, sys
path, extra, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
doc = {"argv": argv}
if extra:
    doc.update(json.loads("{" + extra + "}"))
with open(path, "w") as f:
    json.dump(doc, f)
PY
}

# json_get FILE EXPR : prints a field of a JSON file (python expression on `d`).
json_get() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(json.dumps(v) if isinstance(v,(dict,list,bool)) or v is None else v)' "$1" "$2"
}

# test_pair [COLLECT-OPTIONS...] -- [INIT-OPTIONS...] : collect-results over
# bencher-init --test-mode, with run.json from $T/run.json; stdout to
# $T/out, stderr to $T/err, the exit status in $status.
# shellcheck disable=SC2034 # status is read by the calling test
test_pair() {
	local copts=() iopts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		copts+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	iopts=("$@")
	status=0
	collect-results --config "$T/run.json" --out "$T/results.json" "${copts[@]}" -- \
		bencher-init --test-mode --control-fd 3 "${iopts[@]}" >"$T/out" 2>"$T/err" || status=$?
}
