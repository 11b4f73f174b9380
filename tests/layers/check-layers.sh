#!/usr/bin/env bash
# The layering rule of DESIGN.md as a test that fails: `tools -> node -> transfer -> dht`, and
# the protocol cores (dht/, transfer/) do no I/O. The build alone cannot enforce it, since
# libevent's and libc's headers sit in /usr/include where any file can reach them. So:
#  1. includes: each folder may include only what this allow-list says;
#  2. symbols: what the built core libraries leave undefined (nm -u), less what they define
#     themselves, must be on an allow-list of memory, string, formatting, math and hashing
#     functions: no socket, clock, random, file or libevent symbol gets past.
# Usage: check-layers.sh SOURCE_DIR LIBDHTCORE LIBTRANSFERCORE
set -u
src=$1 dhtlib=$2 transferlib=$3
failed=0

bad()
{
	echo "check-layers: $*" >&2
	failed=1
}

# Standard C headers a core may include. Not <time.h>, <signal.h>, <threads.h>: a core gets the
# time and its timers from its environment. (<stdio.h> and <stdlib.h> stay for snprintf and
# malloc; their file and rand functions are caught by the symbol check.)
std='assert|ctype|errno|float|inttypes|limits|math|stdalign|stdarg|stdbool|stddef|stdint|stdio|stdlib|string'

# check_includes FOLDER QUOTED_RE ANGLE_RE: every #include in FOLDER's .c and .h files names a
# quoted header matching QUOTED_RE or an angled one matching ANGLE_RE.
check_includes()
{
	local folder=$1 quoted=$2 angle=$3 f line h
	while IFS= read -r f; do
		while IFS= read -r line; do
			h=${line#*include}
			h=${h//[[:space:]]/}
			case $h in
			\"*) [[ ${h//\"/} =~ ^($quoted)$ ]] || bad "$f: $line: $folder/ may not include that" ;;
			\<*) h=${h#<}; h=${h%>}
				[[ $h =~ ^($angle)$ ]] || bad "$f: $line: $folder/ may not include that" ;;
			*) bad "$f: $line: cannot tell what this includes" ;;
			esac
		done < <(grep -E '^[[:space:]]*#[[:space:]]*include' "$f")
	done < <(find "$src/$folder" -name '*.[ch]' | sort)
}

check_includes dht 'dht/[a-z0-9_]+\.h' "($std)\.h|sodium\.h|sodium/[a-z0-9_./]+\.h"
check_includes transfer '(dht|transfer)/[a-z0-9_]+\.h' \
	"($std)\.h|sodium\.h|sodium/[a-z0-9_./]+\.h|openssl/(evp|sha)\.h"
# node/ is the runtime: it may include any system header, but nothing from tools/.
check_includes node '(dht|transfer|node)/[a-z0-9_/]+\.h' '.+'

# Functions the cores may call. Memory, strings, formatting into buffers, math, hashing
# (libsodium's generic hash, OpenSSL's digests), and what the compiler and sanitizers add.
allowed='^(malloc|calloc|realloc|free|aligned_alloc|strdup|strndup|mem(cpy|move|set|cmp|chr)'
allowed+='|str(len|nlen|cmp|ncmp|chr|rchr|spn|cspn)|v?snprintf|qsort|bsearch|abort'
allowed+='|log|log1p|log2|log10|exp|pow|sqrt|floor|ceil|fmin|fmax|round|lround|llround'
allowed+='|crypto_(generichash|hash_sha256)[a-z0-9_]*|sodium_(memzero|memcmp|bin2hex|hex2bin)'
# Ed25519 for signed values (dht/item.c) and node identities (dht/idproof.c): signing,
# checking, a key from its seed or its secret key; deterministic, no randomness.
allowed+='|crypto_sign_(detached|verify_detached|seed_keypair|ed25519_sk_to_pk)'
allowed+='|EVP_(Digest[A-Za-z_]*|MD_CTX_(new|free)|sha256)'
allowed+='|__popcount[a-z0-9]+|__stack_chk_fail|__assert_fail|__(asan|ubsan|sanitizer|msan)_.*'
allowed+='|__(memcpy|memset|memmove)_chk|__(v?snprintf)_chk|_GLOBAL_OFFSET_TABLE_)$'

defined=$(nm --defined-only "$dhtlib" "$transferlib" 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u)
for lib in "$dhtlib" "$transferlib"; do
	[ -f "$lib" ] || { bad "$lib: no such library (build it first)"; continue; }
	while IFS= read -r sym; do
		[[ $sym =~ $allowed ]] || bad "$(basename "$lib") calls $sym, which a core must not (DESIGN.md: cores do no I/O; the environment gives time, randomness and sending)"
	done < <(comm -23 <(nm -u "$lib" | awk 'NF { print $NF }' | grep -v ':$' | sort -u) <(echo "$defined"))
done

[ "$failed" -eq 0 ] && echo "check-layers: ok"
exit "$failed"
