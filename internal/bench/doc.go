// Package bench holds go test benchmarks of the work on dbtdbx's hot path,
// in process and without the cost of starting one: resolving the target
// from flags or a dbt project, and reading a stored login. scripts/bench.sh
// measures whole processes against the floor; these show how much of a call
// is dbtdbx's own work. Run them with
//
//	go test -run '^$' -bench . -benchmem ./internal/bench/ ./cmd/
package bench
