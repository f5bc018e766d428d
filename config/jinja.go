package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/nikolalohinski/gonja/v2/builtins"
	jinjaconfig "github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/loaders"
	"github.com/nikolalohinski/gonja/v2/parser"
)

// EnvToken is the variable dbtdbx hands tokens out in. It is never an input:
// a profile whose token reads it is a profile dbtdbx serves.
const EnvToken = "DATABRICKS_TOKEN"

// hasJinja reports whether a value holds Jinja at all. Values without it
// are taken as written, which keeps the engine off the common path.
func hasJinja(s string) bool {
	return strings.Contains(s, "{{") || strings.Contains(s, "{%") || strings.Contains(s, "{#")
}

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
	const name = "/value"
	loader, err := loaders.NewMemoryLoader(map[string]string{name: src})
	if err != nil {
		return "", err
	}
	tpl, err := exec.NewTemplate(name, jinjaconfig.New(), loader, r.environment())
	if err != nil {
		return "", fmt.Errorf("Jinja syntax: %s", strings.TrimPrefix(err.Error(), "failed to parse template '"+src+"': "))
	}
	out, err = tpl.ExecuteToString(nil)
	if r.failure != nil {
		return "", r.failure
	}
	if err != nil {
		return "", runtimeError(err)
	}
	return out, nil
}

// environment is what a profile's Jinja can use: dbt's profile context
// (env_var, var) and filters, on top of Jinja's own. Nothing in it reads a
// file: the loader holds only the value itself, so {% include %} fails.
// range() is left out: gonja runs it on a goroutine that leaks when a loop
// stops early, and no profile needs it.
func (r *renderer) environment() *exec.Environment {
	ctx := exec.NewContext(map[string]any{
		"env_var":   r.envVar,
		"var":       r.projectVar,
		"dict":      mustGlobal("dict"),
		"namespace": mustGlobal("namespace"),
		"joiner":    mustGlobal("joiner"),
		"cycler":    mustGlobal("cycler"),
	})
	return &exec.Environment{
		Context:           ctx,
		Filters:           dbtFilters(),
		Tests:             builtins.Tests,
		ControlStructures: profileStatements(),
		Methods:           builtins.Methods,
	}
}

// profileStatements are the statements a profile may use: {% if %} and
// {% set %}, which dbt profiles do use. Loops and macros are left out: with
// them a profile could recurse until the stack overflows or loop until the
// memory runs out, which no recover() catches.
var profileStatements = sync.OnceValue(func() *exec.ControlStructureSet {
	keep := map[string]parser.ControlStructureParser{}
	for _, name := range []string{"if", "set"} {
		if p, ok := builtins.ControlStructures.Get(name); ok {
			keep[name] = p
		}
	}
	return exec.NewControlStructureSet(keep)
})

func mustGlobal(name string) any {
	v, _ := builtins.GlobalFunctions.Get(name)
	return v
}

// envVar is dbt's env_var(name[, default]): the variable's value when set,
// even to the empty string; else the default, whatever its type; else an
// error naming the variable. DATABRICKS_TOKEN is never read: it renders
// empty and is only recorded, so the caller can tell a served token.
func (r *renderer) envVar(args *exec.VarArgs) (*exec.Value, error) {
	if len(args.Args) == 0 || !args.Args[0].IsString() {
		return nil, r.fail(errors.New("env_var() needs the variable's name as a string, as in env_var('DATABRICKS_HOST')"))
	}
	name := args.Args[0].String()
	def, hasDefault := args.KwArgs["default"]
	switch {
	case len(args.Args) > 2, len(args.Args) == 2 && hasDefault:
		return nil, r.fail(fmt.Errorf("env_var('%s') takes a name and at most one default", name))
	case len(args.Args) == 2:
		def, hasDefault = args.Args[1], true
	}
	for k := range args.KwArgs {
		if k != "default" {
			return nil, r.fail(fmt.Errorf("env_var('%s') has an unknown argument %q", name, k))
		}
	}
	r.noteRead(name)
	if name == EnvToken {
		return exec.AsValue(""), nil
	}
	if v, ok := r.env.lookup(name); ok {
		return exec.AsValue(v), nil
	}
	if hasDefault && !def.IsNil() {
		return def, nil
	}
	return nil, r.fail(fmt.Errorf("environment variable %s is not set, and env_var('%s') gives no default", name, name))
}

// projectVar is dbt's var(name[, default]). Profiles see no project or
// --vars values, so it is the default or an error naming the variable.
func (r *renderer) projectVar(args *exec.VarArgs) (*exec.Value, error) {
	if len(args.Args) == 0 || !args.Args[0].IsString() {
		return nil, r.fail(errors.New("var() needs the variable's name as a string, as in var('target_host', 'default')"))
	}
	name := args.Args[0].String()
	switch {
	case len(args.Args) == 2:
		return args.Args[1], nil
	case len(args.Args) > 2:
		return nil, r.fail(fmt.Errorf("var('%s') takes a name and at most one default", name))
	}
	if def, ok := args.KwArgs["default"]; ok {
		return def, nil
	}
	return nil, r.fail(fmt.Errorf("var('%s') has no default, and dbtdbx passes no --vars: give it a default", name))
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

// dbtFilters are Jinja's filters plus dbt's as_number, as_text, as_bool
// and as_native. Built once; gonja's own set is left untouched.
var dbtFilters = sync.OnceValue(func() *exec.FilterSet {
	fs := exec.NewFilterSet(map[string]exec.FilterFunction{}).Update(builtins.Filters)
	for name, fn := range map[string]exec.FilterFunction{
		"as_number": filterAsNumber,
		"as_text":   filterAsText,
		"as_bool":   filterAsBool,
		"as_native": filterAsNative,
	} {
		_ = fs.Register(name, fn)
	}
	return fs
})

// dbt's as_number turns the text into a number, failing when it is not one
// (Python's literal syntax: 42, -7, 0x1f, 1_000, 2.5, 1e3).
func filterAsNumber(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
	if in.IsError() || in.IsNumber() && !in.IsBool() {
		return in
	}
	s := strings.TrimLeft(in.String(), " \t")
	if n, err := strconv.ParseInt(s, 0, 64); err == nil {
		return exec.AsValue(int(n))
	}
	if f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64); err == nil && !strings.ContainsAny(s, "xXpP") {
		return exec.AsValue(f)
	}
	return exec.AsValue(errors.New("as_number got a value that is not a number"))
}

// dbt's as_bool accepts what Python's literal_eval reads as a bool.
func filterAsBool(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
	if in.IsError() || in.IsBool() {
		return in
	}
	switch strings.TrimLeft(in.String(), " \t") {
	case "True":
		return exec.AsValue(true)
	case "False":
		return exec.AsValue(false)
	}
	return exec.AsValue(errors.New("as_bool got a value that is not True or False"))
}

func filterAsText(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	return exec.AsValue(in.String())
}

func filterAsNative(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
	return in
}

// runtimeError keeps the innermost part of gonja's error, which is what
// went wrong; the outer parts spell out the engine's internal nodes.
func runtimeError(err error) error {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && i+2 < len(msg) {
		// A quoted tail is the subject of the part before it.
		if strings.HasPrefix(msg[i+2:], "'") {
			if j := strings.LastIndex(msg[:i], ": "); j >= 0 {
				i = j
			}
		}
		msg = msg[i+2:]
	}
	return fmt.Errorf("Jinja: %s", msg)
}
