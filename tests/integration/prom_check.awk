# prom_check.awk: check that every line of its input is valid Prometheus text exposition
# (format 0.0.4) and print one "name{labels} value" per sample, labels as written, for the
# caller to compare. A line that is not valid ends the run with "BAD LINE n: ..." and exit 1.
# Also checked: a TYPE line comes before its family's samples and only once, a family's
# samples are not split, histogram buckets rise and end with +Inf equal to _count.
BEGIN {
	name = "[a-zA-Z_:][a-zA-Z0-9_:]*"
	lname = "[a-zA-Z_][a-zA-Z0-9_]*"
	lval = "\"([^\"\\\\\n]|\\\\[\\\\\"n])*\""
	label = lname "=" lval
	labels = "\\{(" label "(," label ")*,?)?\\}"
	value = "[-+]?([0-9]+(\\.[0-9]*)?([eE][-+]?[0-9]+)?|\\.[0-9]+([eE][-+]?[0-9]+)?|Inf|NaN)"
	sample_re = "^" name "(" labels ")? " value "( -?[0-9]+)?$"
	bad = 0
}
function die(msg) { printf "BAD LINE %d: %s: %s\n", NR, msg, $0; bad = 1; exit 1 }
function family_of(n) {
	if (n in type) return n
	if (sub(/_(bucket|sum|count)$/, "", n) && (n in type) && type[n] == "histogram") return n
	return ""
}
/^# HELP / {
	if ($3 !~ "^" name "$") die("a HELP line with a bad name")
	next
}
/^# TYPE / {
	if (NF != 4 || $3 !~ "^" name "$" || $4 !~ /^(counter|gauge|histogram|summary|untyped)$/)
		die("a bad TYPE line")
	if ($3 in type) die("a second TYPE line for " $3)
	type[$3] = $4
	next
}
/^#/ { next }
/^$/ { next }
{
	if ($0 !~ sample_re) die("not a sample")
	n = $0; sub(/[{ ].*/, "", n)
	f = family_of(n)
	if (f == "") die("a sample before its family's TYPE line")
	if (f != cur && (f in seen)) die("the samples of " f " are split")
	cur = f; seen[f] = 1
	v = $NF
	if (n ~ /_bucket$/) {
		if ($0 !~ /le="/) die("a bucket without le")
		if (v + 0 < last_bucket[f]) die("buckets that fall")
		last_bucket[f] = v + 0
		if ($0 ~ /le="\+Inf"/) inf[f] = v + 0
	}
	if (n ~ /_count$/ && type[f] == "histogram" && inf[f] != v + 0)
		die("a histogram whose +Inf bucket is not its count")
	print
}
END { if (!bad && NR == 0) { print "BAD: no input"; exit 1 } }
