#!/usr/bin/env bats
# Tree hygiene that a reviewer would otherwise check by hand: every shell
# script passes shellcheck.

load helpers

@test "shell scripts pass shellcheck" {
	command -v shellcheck >/dev/null || die "shellcheck not installed (apt-get install shellcheck)"
	cd "$abs_top_srcdir"
	local scripts=() files
	# Our files: what git tracks, or (in a dist tree) everything but what
	# autotools generated.
	if files=$(git ls-files 2>/dev/null) && [ -n "$files" ]; then
		files=$(printf '%s\n' "$files" | sed 's|^|./|')
	else
		files=$(find . \( -path ./build -o -path ./_build -o -path ./autom4te.cache -o -path ./build-aux \) -prune \
			-o -type f -perm -u+x ! -name 'configure*' ! -name config.status -print)
	fi
	while IFS= read -r f; do
		case $f in *.bats) continue ;; esac
		[ -f "$f" ] && [ -x "$f" ] || continue
		if head -n1 "$f" | grep -qE '^#!.*\b(ba)?sh\b'; then scripts+=("$f"); fi
	done <<< "$files"
	[ "${#scripts[@]}" -gt 0 ] || die "no scripts found"
	run shellcheck -x "${scripts[@]}"
	[ "$status" -eq 0 ] || die "$output"
}
