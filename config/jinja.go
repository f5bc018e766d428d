package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

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

// renderer renders profile values the way dbt renders profiles.yml: Jinja
// with dbt's env_var() and var() and its as_* filters. One renderer serves
// one Resolve; it is not safe for concurrent use.
type renderer struct {
	env Env
	// read lists the variables env_var() looked up during the last render,
	// in order, each once.
	read []string
	// failure is the first error env_var() or var() raised during the last
	// render, phrased for the user and free of any value.
	failure error
	// globals is what the profile's Jinja sees on top of the engine's own.
	globals map[string]jinja.Value
}

// render renders one value. Errors from env_var() and var() name the
// variable; other errors are the engine's, which may quote the template.
func (r *renderer) render(src string) (out string, err error) {
	r.read, r.failure = nil, nil
	if !hasJinja(src) {
		return src, nil
	}
	// The engine is a third-party parser fed with user input: a panic in it
	// must become an error about that input, not a crash of every command.
	defer func() {
		if p := recover(); p != nil {
			out, err = "", fmt.Errorf("the Jinja engine failed on this value (%v)", p)
			if r.failure != nil {
				err = r.failure
			}
		}
	}()
	if len(src) > maxJinjaSize {
		return "", fmt.Errorf("Jinja: the value is longer than %d KiB, which no profile needs", maxJinjaSize>>10)
	}
	if err := checkProfileJinja(src); err != nil {
		return "", err
	}
	tpl, err := jinja.Compile(src)
	if err != nil {
		msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "jinja scan: "), "jinja parse: ")
		return "", fmt.Errorf("Jinja syntax: %s", msg)
	}
	if r.globals == nil {
		r.globals = r.newGlobals()
	}
	out, err = tpl.RenderValues(r.globals)
	if r.failure != nil {
		return "", r.failure
	}
	if err != nil {
		return "", runtimeError(err)
	}
	return out, nil
}

// newGlobals is dbt's profile context (env_var, var) and filters (as_*;
// the engine looks a filter it does not have up among the globals). The
// engine's range(), raise_exception() and strftime_now() are shadowed:
// range() only serves loops, which profiles cannot have, and a large one
// fills the memory; raise_exception() would put whatever the template
// likes, a variable's value too, in an error message; strftime_now()
// makes a profile depend on the clock. Nothing the engine has reads files.
func (r *renderer) newGlobals() map[string]jinja.Value {
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

// envVar is dbt's env_var(name[, default]): the variable's value when set,
// even to the empty string; else the default, whatever its type; else an
// error naming the variable. DATABRICKS_TOKEN is never read: it renders
// empty and is only recorded, so the caller can tell a served token.
func (r *renderer) envVar(args []jinja.Value, kwargs map[string]jinja.Value) (jinja.Value, error) {
	if len(args) == 0 || !args[0].IsString() {
		return jinja.Undefined(), r.fail(errors.New("env_var() needs the variable's name as a string, as in env_var('DATABRICKS_HOST')"))
	}
	name := args[0].AsString()
	def, hasDefault := kwargs["default"]
	switch {
	case len(args) > 2, len(args) == 2 && hasDefault:
		return jinja.Undefined(), r.fail(fmt.Errorf("env_var('%s') takes a name and at most one default", name))
	case len(args) == 2:
		def, hasDefault = args[1], true
	}
	for k := range kwargs {
		if k != "default" {
			return jinja.Undefined(), r.fail(fmt.Errorf("env_var('%s') has an unknown argument %q", name, k))
		}
	}
	r.noteRead(name)
	if name == EnvToken {
		return jinja.NewString(""), nil
	}
	if v, ok := r.env.lookup(name); ok {
		return jinja.NewString(v), nil
	}
	if hasDefault && !def.IsNone() && !def.IsUndefined() {
		return def, nil
	}
	return jinja.Undefined(), r.fail(fmt.Errorf("environment variable %s is not set, and env_var('%s') gives no default", name, name))
}

// projectVar is dbt's var(name[, default]). Profiles see no project or
// --vars values, so it is the default or an error naming the variable.
func (r *renderer) projectVar(args []jinja.Value, kwargs map[string]jinja.Value) (jinja.Value, error) {
	if len(args) == 0 || !args[0].IsString() {
		return jinja.Undefined(), r.fail(errors.New("var() needs the variable's name as a string, as in var('target_host', 'default')"))
	}
	name := args[0].AsString()
	switch {
	case len(args) == 2:
		return args[1], nil
	case len(args) > 2:
		return jinja.Undefined(), r.fail(fmt.Errorf("var('%s') takes a name and at most one default", name))
	}
	if def, ok := kwargs["default"]; ok {
		return def, nil
	}
	return jinja.Undefined(), r.fail(fmt.Errorf("var('%s') has no default, and dbtdbx passes no --vars: give it a default", name))
}

func (r *renderer) noteRead(name string) {
	for _, n := range r.read {
		if n == name {
			return
		}
	}
	r.read = append(r.read, name)
}

// fail records the first error of a render; later ones are consequences.
func (r *renderer) fail(err error) error {
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
	const notCallable = " is not callable"
	if i := strings.Index(msg, notCallable); i >= 0 {
		msg = msg[:i+len(notCallable)]
	}
	return fmt.Errorf("Jinja: %s", msg)
}
