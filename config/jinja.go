package config

import (
	"errors"
	"fmt"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ardanlabs/jinja"
)

// EnvToken is the variable dbtdbx hands tokens out in. It is never an input:
// a profile whose token reads it is a profile dbtdbx serves.
const EnvToken = "DATABRICKS_TOKEN"

// hasJinja reports whether a value holds Jinja at all. Values without it
// are taken as written, which keeps the engine off the common path.
func hasJinja(s string) bool {
	return strings.Contains(s, "{{") || strings.Contains(s, "{%") || strings.Contains(s, "{#")
}

// maxJinjaSize bounds a value that holds Jinja. Real ones are a line; the
// bound keeps the engine's recursion (one Go frame or more per nesting
// level or operator) far from the stack limit, which no recover() catches.
const maxJinjaSize = 64 << 10

// The bounds of one render. The policy refuses what is known to blow up,
// but a few lines of {% set %} and filters can still double a string or a
// list over and over (a ~ a, [l, l], replace, format, ...), and running out
// of memory is fatal whatever the recover(). So the engine runs on its own
// goroutine and render waits for it with a deadline and a watch on the
// heap; a real profile value needs microseconds and a few KiB.
const (
	renderTimeLimit = 5 * time.Second
	renderMemLimit  = 256 << 20
	// renderPoll is how often the heap is looked at while the engine runs.
	renderPoll = 2 * time.Millisecond
)

// heapMetric is the heap in use by objects, live or not yet swept: it
// grows with every allocation, unlike /gc/heap/live:bytes, which changes
// only when a GC cycle ends.
const heapMetric = "/memory/classes/heap/objects:bytes"

// renderer renders profile values the way dbt renders profiles.yml: Jinja
// with dbt's env_var() and var() and its as_* filters. One renderer serves
// one Resolve; it is not safe for concurrent use.
type renderer struct {
	env Env
	// read lists the variables env_var() looked up during the last render,
	// in order, each once.
	read []string
	// shown is read as messages and status may show it: a name computed
	// from a variable's value is replaced by computedVar.
	shown []string
	// failure is the first error env_var() or var() raised during the last
	// render, phrased for the user and free of any value.
	failure error

	// timeLimit and memLimit bound a render (renderTimeLimit and
	// renderMemLimit when zero); tests lower them.
	timeLimit time.Duration
	memLimit  uint64

	// st is what env_var() and var() record during a render, and globals
	// what the profile's Jinja sees on top of the engine's own, bound to st.
	// Both are dropped when a render is abandoned: its goroutine may still
	// be writing to them.
	st      *renderState
	globals map[string]jinja.Value
}

// renderState is what one render's env_var() and var() record. It is
// written by the engine's goroutine and read once that is done.
type renderState struct {
	env     Env
	read    []string
	shown   []string
	failure error
	// values are the non-empty values env_var() read from the environment:
	// a name that contains one, or is part of one, is not quoted in an
	// error (see quoteName).
	values []string
	// literals are the strings written in the template: only a name
	// among them is quoted, for one computed at run time, whatever it was
	// computed from, may be a secret.
	literals []string
}

// render renders one value. Errors from env_var() and var() name the
// variable; other errors are the engine's, which may quote the template.
func (r *renderer) render(src string) (_ string, err error) {
	r.read, r.shown, r.failure = nil, nil, nil
	if !hasJinja(src) {
		return src, nil
	}
	if len(src) > maxJinjaSize {
		return "", fmt.Errorf("Jinja: the value is longer than %d KiB, which no profile needs", maxJinjaSize>>10)
	}
	bounded, literals, err := checkProfileJinja(src)
	if err != nil {
		return "", err
	}
	if r.st == nil {
		r.st = &renderState{env: r.env}
		r.globals = r.st.newGlobals()
	}
	st := r.st
	st.read, st.shown, st.failure, st.values, st.literals = nil, nil, nil, nil, literals
	var res renderResult
	if bounded {
		// Known to render small and quick: on this goroutine, which is
		// cheaper than a handoff to a worker.
		res = runRenderJob(renderJob{src, r.globals})
	} else if res, err = r.watchedRender(src); err != nil {
		return "", err
	}
	r.read, r.shown, r.failure = st.read, st.shown, st.failure
	if st.failure != nil {
		return "", st.failure
	}
	if res.err != nil {
		return "", res.err
	}
	if len(res.out) > maxJinjaSize {
		return "", fmt.Errorf("Jinja: the value renders to more than %d KiB, which no profile needs", maxJinjaSize>>10)
	}
	return res.out, nil
}

// renderQuiet is render for a value whose errors must not quote what it
// read. Only env_var's and var's own errors, and render's bounds, are known
// to be free of values; any other error of a secret value, or of a value
// that read a variable, is told without the engine's message.
func (r *renderer) renderQuiet(src string, secret bool) (string, error) {
	out, err := r.render(src)
	var bound *boundError
	if err != nil && (secret || len(r.read) > 0) && err != r.failure && !errors.As(err, &bound) {
		err = errors.New("its Jinja does not render (the engine's message is not shown, as it could quote a secret)")
	}
	return out, err
}

// watchedRender renders src on a worker goroutine and waits for it under
// the time and memory bounds. The error is about the bounds; the engine's
// is in the result.
func (r *renderer) watchedRender(src string) (renderResult, error) {
	w := getRenderWorker()
	sample := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(sample)
	memLimit := r.memLimit
	if memLimit == 0 {
		memLimit = renderMemLimit
	}
	heapLimit := heapBytes(sample) + memLimit
	timeLimit := r.timeLimit
	if timeLimit == 0 {
		timeLimit = renderTimeLimit
	}
	start := time.Now()
	w.jobs <- renderJob{src, r.globals}
	tick := time.NewTimer(renderPoll)
	defer tick.Stop()
	tooMuch := func() error {
		metrics.Read(sample)
		if heapBytes(sample) > heapLimit {
			return &boundError{fmt.Sprintf("Jinja: rendering this value needed more than %d MiB: no profile value needs that", memLimit>>20)}
		}
		return nil
	}
	for {
		select {
		case res := <-w.results:
			putRenderWorker(w)
			// A render that grew past the bound between two polls is
			// caught here: what it made is still held by the result.
			if over := tooMuch(); over != nil {
				return renderResult{}, over
			}
			return res, nil
		case <-tick.C:
		}
		over := tooMuch()
		if over == nil && time.Since(start) > timeLimit {
			over = &boundError{fmt.Sprintf("Jinja: rendering this value took more than %v: no profile value needs that", timeLimit)}
		}
		if over != nil {
			// The engine cannot be stopped: its goroutine is abandoned
			// with the state it writes to, and ends when the engine does
			// (jobs is closed). The CLI exits right after this error
			// (Resolve fails), which ends it sooner; until then it is only
			// a goroutine that nobody waits for.
			close(w.jobs)
			r.st, r.globals = nil, nil
			return renderResult{}, over
		}
		tick.Reset(renderPoll)
	}
}

// boundError is a render stopped by its time or memory bound.
type boundError struct{ msg string }

func (e *boundError) Error() string { return e.msg }

// A value is bounded when its Jinja is known to render small and quick,
// whatever the variables it reads: short, with no {% set %}, and only
// names, functions, filters and operators whose work and output are in
// proportion to their input. (No {% set %} means no value is used twice,
// so nothing can double; each env_var() adds at most a variable.) Real
// profile values are of this kind, and render on the caller's goroutine;
// the rest is rendered under watch, which costs a goroutine handoff.
// checkProfileJinja tells bounded values.

var boundedStatements = map[string]bool{"if": true, "elif": true, "else": true, "endif": true}

// boundedTokens reports whether a tag's tokens are all of a bounded value.
func boundedTokens(toks []jinjaToken) bool {
	for _, t := range toks {
		switch t.kind {
		case tokName:
			if !boundedNames[t.val] {
				return false
			}
		case tokOp:
			switch t.val {
			case "==", "!=", "<", ">", "<=", ">=", "+", "-":
			default:
				return false
			}
		}
	}
	return true
}

// maxBoundedJinja is the longest bounded value.
const maxBoundedJinja = 256

var boundedNames = map[string]bool{
	"env_var": true, "var": true, "default": true, "d": true,
	"lower": true, "upper": true, "trim": true, "strip": true,
	"as_text": true, "as_number": true, "as_bool": true, "as_native": true,
	"string": true, "int": true,
	"if": true, "elif": true, "else": true, "endif": true,
	"and": true, "or": true, "not": true, "in": true,
	"true": true, "false": true, "none": true, "True": true, "False": true, "None": true,
}

// renderWorker is a goroutine the engine runs on. Idle ones are kept for
// the next value (and the next Resolve): the deep stack the engine grows
// is grown once, not once a value, and a value costs no new goroutine.
type renderWorker struct {
	jobs    chan renderJob
	results chan renderResult
}

// idleRenderWorkers holds the workers that are not rendering. One is all
// a CLI uses; a few serve concurrent Resolves.
var idleRenderWorkers = make(chan *renderWorker, 4)

func getRenderWorker() *renderWorker {
	select {
	case w := <-idleRenderWorkers:
		return w
	default:
	}
	w := &renderWorker{jobs: make(chan renderJob), results: make(chan renderResult, 1)}
	go func() {
		for j := range w.jobs {
			w.results <- runRenderJob(j)
		}
	}()
	return w
}

// putRenderWorker keeps a worker that finished its render for the next,
// or ends it when enough are kept.
func putRenderWorker(w *renderWorker) {
	select {
	case idleRenderWorkers <- w:
	default:
		close(w.jobs)
	}
}

type renderJob struct {
	src     string
	globals map[string]jinja.Value
}

type renderResult struct {
	out string
	err error
}

func startRenderWorker() *renderWorker {
	w := &renderWorker{jobs: make(chan renderJob), results: make(chan renderResult, 1)}
	go func() {
		for j := range w.jobs {
			w.results <- runRenderJob(j)
		}
	}()
	return w
}

// runRenderJob renders one value. The engine is a third-party parser fed
// with user input: a panic in it must become an error about that input,
// not a crash of every command.
func runRenderJob(j renderJob) (res renderResult) {
	defer func() {
		if p := recover(); p != nil {
			res = renderResult{"", fmt.Errorf("the Jinja engine failed on this value (%v)", p)}
		}
	}()
	res.out, res.err = renderEngine(j.src, j.globals)
	return res
}

// renderEngine compiles and renders src with the engine.
func renderEngine(src string, globals map[string]jinja.Value) (string, error) {
	tpl, err := jinja.Compile(src)
	if err != nil {
		msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "jinja scan: "), "jinja parse: ")
		return "", fmt.Errorf("Jinja syntax: %s", msg)
	}
	out, err := tpl.RenderValues(globals)
	if err != nil {
		return "", runtimeError(err)
	}
	return out, nil
}

func heapBytes(s []metrics.Sample) uint64 {
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// newGlobals is dbt's profile context (env_var, var) and filters (as_*;
// the engine looks a filter it does not have up among the globals). The
// engine's range(), raise_exception() and strftime_now() are shadowed:
// range() only serves loops, which profiles cannot have, and a large one
// fills the memory; raise_exception() would put whatever the template
// likes, a variable's value too, in an error message; strftime_now()
// makes a profile depend on the clock. Nothing the engine has reads files.
func (r *renderState) newGlobals() map[string]jinja.Value {
	g := map[string]jinja.Value{
		"env_var":   jinja.NewCallable("env_var", r.envVar),
		"var":       jinja.NewCallable("var", r.projectVar),
		"as_number": jinja.NewCallable("as_number", filterAsNumber),
		"as_text":   jinja.NewCallable("as_text", filterAsText),
		"as_bool":   jinja.NewCallable("as_bool", filterAsBool),
		"as_native": jinja.NewCallable("as_native", filterAsNative),
	}
	for _, name := range []string{"range", "raise_exception", "strftime_now"} {
		g[name] = jinja.NewCallable(name, func([]jinja.Value, map[string]jinja.Value) (jinja.Value, error) {
			return jinja.Undefined(), r.fail(fmt.Errorf("%s is not callable in a profile", name))
		})
	}
	return g
}

// computedName is said instead of a variable's name that may be a secret.
const computedName = "a name computed from another variable's value"

// quoteName returns how an error may name a variable: quoted in call
// syntax, as in env_var('NAME'), when it is a plausible name written as it
// is in the template and holding no value env_var() has read in this
// render; else ok is false, for a name computed at run time may be a
// secret, however transformed.
func (r *renderState) quoteName(name string) (string, bool) {
	if !validVarName(name) || !slices.Contains(r.literals, name) {
		return "", false
	}
	// A literal that matches a read value, or a part of one, in any case,
	// would confirm a guess at the value: not quoted either.
	lower := strings.ToLower(name)
	for _, v := range r.values {
		v = strings.ToLower(v)
		if strings.Contains(lower, v) || len(name) >= minGuess && strings.Contains(v, lower) {
			return "", false
		}
	}
	return name, true
}

// minGuess is the shortest name that quoteName checks against the inside
// of the values read: a shorter one confirms too little of a value to
// matter, and many names that short (USER, HOME) are found in values.
const minGuess = 6

// validVarName reports whether name is [A-Za-z_][A-Za-z0-9_]*.
func validVarName(name string) bool {
	if name == "" {
		return false
	}
	for i, c := range name {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// envVar is dbt's env_var(name[, default]): the variable's value when set,
// even to the empty string; else the default, whatever its type; else an
// error naming the variable. DATABRICKS_TOKEN is never read: it renders
// empty and is only recorded, so the caller can tell a served token.
func (r *renderState) envVar(args []jinja.Value, kwargs map[string]jinja.Value) (jinja.Value, error) {
	if len(args) == 0 || !args[0].IsString() {
		return jinja.Undefined(), r.fail(errors.New("env_var() needs the variable's name as a string, as in env_var('DATABRICKS_HOST')"))
	}
	name := args[0].AsString()
	call := "env_var() with " + computedName
	quoted, named := r.quoteName(name)
	if named {
		call = "env_var('" + quoted + "')"
	}
	def, hasDefault := kwargs["default"]
	switch {
	case len(args) > 2, len(args) == 2 && hasDefault:
		return jinja.Undefined(), r.fail(fmt.Errorf("%s takes a name and at most one default", call))
	case len(args) == 2:
		def, hasDefault = args[1], true
	}
	for k := range kwargs {
		if k != "default" {
			return jinja.Undefined(), r.fail(fmt.Errorf("%s has an unknown argument %q", call, k))
		}
	}
	r.noteRead(name)
	if name == EnvToken {
		return jinja.NewString(""), nil
	}
	if v, ok := r.env.lookup(name); ok {
		if v != "" {
			r.values = append(r.values, v)
		}
		return jinja.NewString(v), nil
	}
	if hasDefault && !def.IsNone() && !def.IsUndefined() {
		if named {
			r.markDefault(name)
		}
		return def, nil
	}
	if !named {
		return jinja.Undefined(), r.fail(errors.New("env_var() was given a name computed from another variable's value, and that variable is not set and has no default"))
	}
	return jinja.Undefined(), r.fail(fmt.Errorf("environment variable %s is not set, and env_var('%s') gives no default: set it (dbt needs it too)", quoted, quoted))
}

// projectVar is dbt's var(name[, default]). Profiles see no project or
// --vars values, so it is the default or an error naming the variable.
func (r *renderState) projectVar(args []jinja.Value, kwargs map[string]jinja.Value) (jinja.Value, error) {
	if len(args) == 0 || !args[0].IsString() {
		return jinja.Undefined(), r.fail(errors.New("var() needs the variable's name as a string, as in var('target_host', 'default')"))
	}
	name := args[0].AsString()
	call := "var() with " + computedName
	if quoted, ok := r.quoteName(name); ok {
		call = "var('" + quoted + "')"
	}
	switch {
	case len(args) == 2:
		return args[1], nil
	case len(args) > 2:
		return jinja.Undefined(), r.fail(fmt.Errorf("%s takes a name and at most one default", call))
	}
	if def, ok := kwargs["default"]; ok {
		return def, nil
	}
	return jinja.Undefined(), r.fail(fmt.Errorf("%s has no default, and dbtdbx passes no --vars: give it a default", call))
}

func (r *renderState) noteRead(name string) {
	for _, n := range r.read {
		if n == name {
			return
		}
	}
	r.read = append(r.read, name)
	if _, ok := r.quoteName(name); ok {
		r.shown = append(r.shown, name)
	} else {
		r.shown = append(r.shown, computedVar)
	}
}

// markDefault notes in what status shows that the variable name was unset
// and its default used, so status does not name it as the source.
func (r *renderState) markDefault(name string) {
	for i, n := range r.shown {
		if n == name {
			r.shown[i] = name + " (unset, default used)"
		}
	}
}

// computedVar stands for a variable whose name may be a secret.
const computedVar = "(a variable named by another's value)"

// fail records the first error of a render; later ones are consequences.
func (r *renderState) fail(err error) error {
	if r.failure == nil {
		r.failure = err
	}
	return err
}

// readVar reports whether env_var() looked up name during the last render.
func (r *renderer) readVar(name string) bool {
	for _, n := range r.read {
		if n == name {
			return true
		}
	}
	return false
}

// dbt's as_number turns the text into a number, failing when it is not one
// (Python's literal syntax: 42, -7, 0x1f, 1_000, 2.5, 1e3).
func filterAsNumber(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
	in := filterInput(args)
	if in.IsNumber() {
		return in, nil
	}
	s := strings.TrimLeft(text(in), " \t")
	if n, err := strconv.ParseInt(s, 0, 64); err == nil {
		return jinja.NewInt(n), nil
	}
	if f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64); err == nil && !strings.ContainsAny(s, "xXpP") {
		return jinja.NewFloat(f), nil
	}
	return jinja.Undefined(), errors.New("as_number got a value that is not a number")
}

// dbt's as_bool accepts what Python's literal_eval reads as a bool.
func filterAsBool(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
	in := filterInput(args)
	if in.IsBool() {
		return in, nil
	}
	switch strings.TrimLeft(text(in), " \t") {
	case "True":
		return jinja.NewBool(true), nil
	case "False":
		return jinja.NewBool(false), nil
	}
	return jinja.Undefined(), errors.New("as_bool got a value that is not True or False")
}

func filterAsText(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
	return jinja.NewString(text(filterInput(args))), nil
}

func filterAsNative(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
	return filterInput(args), nil
}

// filterInput is the value a filter applies to: its first argument.
func filterInput(args []jinja.Value) jinja.Value {
	if len(args) == 0 {
		return jinja.Undefined()
	}
	return args[0]
}

// text is a value as the engine prints it in {{ }}: strings as they are,
// none and undefined as nothing. (Value.String is Python's repr.)
func text(v jinja.Value) string {
	switch {
	case v.IsString():
		return v.AsString()
	case v.IsUndefined(), v.IsNone(), v.IsCallable():
		return ""
	case v.IsInt():
		return strconv.FormatInt(v.AsInt(), 10)
	case v.IsFloat():
		return strconv.FormatFloat(v.AsFloat(), 'g', -1, 64)
	}
	return v.String() // True, False, lists and dicts
}

// runtimeError phrases an error of the engine's. Its "x is not callable"
// goes on with the repr of x, which can be a variable's value: cut there.
func runtimeError(err error) error {
	msg := err.Error()
	// from_json's error goes on with encoding/json's, which quotes the
	// character it stumbled on: of a variable's value, maybe.
	if strings.HasPrefix(msg, "fromjson:") || strings.Contains(msg, ": fromjson:") {
		return errors.New("Jinja: from_json: the value is not JSON")
	}
	const notCallable = " is not callable"
	if i := strings.Index(msg, notCallable); i >= 0 {
		msg = msg[:i+len(notCallable)]
	}
	return fmt.Errorf("Jinja: %s", msg)
}
