package config

import (
	"reflect"
	"strings"
	"testing"

	"github.com/ardanlabs/jinja"
)

func TestRenderLikeDBT(t *testing.T) {
	r := &renderer{env: env(map[string]string{
		"SET": "value", "EMPTY": "", "NUM": "42", "TOKEN_LIKE": "dapi123", EnvToken: "printed-earlier",
	})}
	cases := []struct {
		src, want string
		read      []string
		err       string // a substring of the error, when one is expected
	}{
		{src: "plain, {not jinja}", want: "plain, {not jinja}"},
		{src: "{{ env_var('SET') }}", want: "value", read: []string{"SET"}},
		{src: "{{ env_var('EMPTY', 'default') }}", want: "", read: []string{"EMPTY"}},
		{src: "{{ env_var('UNSET', 'default') }}", want: "default", read: []string{"UNSET"}},
		{src: "{{ env_var('UNSET', default='kw') }}", want: "kw"},
		{src: "{{ env_var('UNSET', 8020) }}", want: "8020"},
		{src: "{{ env_var('UNSET', env_var('SET')) }}", want: "value", read: []string{"SET", "UNSET"}},
		{src: "{{ env_var('UNSET') }}", err: "UNSET is not set"},
		{src: "{{ env_var('UNSET', none) }}", err: "UNSET is not set"},
		{src: "{{ env_var() }}", err: "needs the variable's name"},
		{src: "{{ env_var('A', 'b', 'c') }}", err: "at most one default"},
		{src: "{{ env_var('DATABRICKS_TOKEN') }}", want: "", read: []string{EnvToken}},
		{src: "{{ var('x', 'fallback') }}", want: "fallback"},
		{src: "{{ var('x', default=3) }}", want: "3"},
		{src: "{{ var('x') }}", err: "var('x') has no default"},
		{src: "a-{{ env_var('SET') }}-{{ env_var('NUM') }}-b", want: "a-value-42-b", read: []string{"SET", "NUM"}},
		{src: "{{ env_var('NUM') | as_number }}", want: "42"},
		{src: "{{ env_var('NUM') | int + 1 }}", want: "43"},
		{src: "{{ '1_000' | as_number }}/{{ '2.5' | as_number }}/{{ '0x1f' | as_number }}", want: "1000/2.5/31"},
		{src: "{{ env_var('TOKEN_LIKE') | as_number }}", err: "as_number got a value that is not a number"},
		{src: "{{ 'True' | as_bool }}", want: "True"},
		{src: "{{ 'yes' | as_bool }}", err: "as_bool"},
		{src: "{{ 42 | as_text }}", want: "42"},
		{src: "{{ '  MiXed ' | trim | lower | replace('mixed', 'ok') }}", want: "ok"},
		{src: "{% if env_var('SET') == 'value' %}yes{% else %}no{% endif %}", want: "yes"},
		{src: "{# a comment #}kept", want: "kept"},
		{src: "{{ env_var('SET') | no_such_filter }}", err: "no_such_filter"},
		{src: "{{ 'x' }", err: "Jinja syntax"},
		{src: "{% include '/etc/passwd' %}", err: "Jinja"},
		{src: "{{ range(3) }}", err: "range is not callable"},
	}
	for _, c := range cases {
		got, err := r.render(c.src)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("render(%q) = %q, %v; want an error mentioning %q", c.src, got, err, c.err)
			}
			if err != nil && strings.Contains(err.Error(), "dapi123") {
				t.Errorf("render(%q) error %q quotes a variable's value", c.src, err)
			}
		case err != nil || got != c.want:
			t.Errorf("render(%q) = %q, %v; want %q", c.src, got, err, c.want)
		case c.read != nil && strings.Join(r.read, ",") != strings.Join(c.read, ","):
			t.Errorf("render(%q) read %q, want %q", c.src, r.read, c.read)
		}
	}
}

// A profile's Jinja may use only {% if %} and {% set %}, and none of what
// could crash or hang the process whatever the recover() in render.
func TestRenderPolicy(t *testing.T) {
	r := &renderer{env: env(map[string]string{"SET": "value", "NUM": "42", "TOKEN_LIKE": "dapi123"})}
	ok := []struct{ src, want string }{
		{"{% if env_var('NUM') | int > 40 %}a{% elif false %}b{% else %}c{% endif %}{% set x = 'v' %}{{ x }}", "av"},
		{"{% set x %}{{ env_var('SET') }}{% endset %}[{{ x }}]", "[value]"},
		{"{%- if true -%} x {%- endif -%}", "x"},
		{"{# {% for x in y %}{% include 'f' %} #}ok", "ok"},
		{"{{ '{% for x in y %}' }}", "{% for x in y %}"},
		{"{% if '%}' == \"%}\" %}y{% endif %}", "y"},
		{"{{ 'abcdef'[1:3] }}{{ 'abc'[::-1] }}{{ env_var('SET')[:-2] }}{{ [1, 2, 3][-1] }}", "bccbaval3"},
		{"{{ {'a': 1}['a'] }}{{ dict(a=2).a }}{{ namespace(b=3).b }}", "123"},
		{"{{ 2 ** 3 }}/{{ 7 // 2 }}/{{ env_var('SET') | upper | replace('A', 'a') }}", "8/3/VaLUE"},
		{"{{ ['a', 'b'] | join(', ') }}{{ 'a.b' | replace('.', '__') }}{{ 'xx'.replace('x', 'y', 1) }}{{ 'ab' | list | join }}", "a, ba__byxab"},
	}
	for _, c := range ok {
		if got, err := r.render(c.src); err != nil || got != c.want {
			t.Errorf("render(%q) = %q, %v; want %q", c.src, got, err, c.want)
		}
	}
	refused := []struct{ src, err string }{
		{"{% for c in 'abc' %}{{ c }}{% endfor %}", "{% for %} is not allowed in a profile"},
		{"{% if true %}{% for c in 'abc' %}{% endfor %}{% endif %}", "{% for %} is not allowed"},
		{"{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "{% macro %} is not allowed"},
		{"{% include '/etc/passwd' %}", "{% include %} is not allowed"},
		{"{% import 'x.sql' as x %}", "{% import %} is not allowed"},
		{"{% extends 'base' %}", "{% extends %} is not allowed"},
		{"{% call f() %}x{% endcall %}", "{% call %} is not allowed"},
		{"{% filter upper %}x{% endfilter %}", "{% filter %} is not allowed"},
		{"{% raw %}{{ x }}{% endraw %}", "{% raw %} is not allowed"},
		{"{% block b %}{% endblock %}", "{% block %} is not allowed"},
		{"{%- break -%}", "{% break %} is not allowed"},
		{"a{% %}b", "must start with a statement"},
		{"{%+ for c in 'abc' %}{% endfor %}", "must start with a statement"},
		{"{{ range(3) }}", "range is not callable"},
		{"{{ raise_exception(env_var('TOKEN_LIKE')) }}", "raise_exception is not callable"},
		{"{{ strftime_now('%Y') }}", "strftime_now is not callable"},
		{"{{ env_var('TOKEN_LIKE')() }}", "is not callable"},
		{"{{ 'x' * 99999999999 }}", "the * operator is not allowed"},
		{"{{ 'x' | indent(99999999999) }}", "the indent filter is not allowed"},
		{"{{ {'a': 1} | tojson(indent=99999999999) }}", "the tojson filter is not allowed"},
		{"{{ __filter_indent('x', 99999999999) }}", "names starting with __"},
		{"{% set l = [] %}{% set _ = l.append(l) %}{{ l }}", ".append is not allowed"},
		{"{% set d = {} %}{{ d.update({'d': d}) }}{{ d }}", ".update is not allowed"},
		{"{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}", "setting an attribute"},
		{"{{ 'é'[0:999999999999] }}", "a slice may only have literal numbers"},
		{"{{ [1][0:99999999999:2] }}", "a slice may only have literal numbers"},
		{"{{ 'abc'[:env_var('NUM') | int] }}", "a slice may only have literal numbers"},
		{"{{ 'abc'[1-2:] }}", "a slice may only have literal numbers"},
		{"{{ 'x' ~ " + strings.Repeat("'y' ~ ", maxJinjaSize/6) + "'z' }}", "longer than 64 KiB"},
		{"{% set a = 'xxxxxxxxxxxxxxxx' %}" + strings.Repeat("{% set a = a ~ a %}", 13) + "{{ a }}", "renders to more than 64 KiB"},
		// Arguments that make one call ask for more than the memory bound
		// can catch: the output of replace and join grows with them.
		{"{{ 'x' | replace('', 'yy') }}", "replace may only have literal strings"},
		{"{{ env_var('TOKEN_LIKE') | replace('', env_var('TOKEN_LIKE')) }}", "replace may only have literal strings"},
		{"{% set a = 'x' %}{{ 'xx'.replace(a, 'y') }}", "replace may only have literal strings"},
		{"{{ 'xx'.replace('x', 'yyy') }}", "replace may only have literal strings"},
		{"{{ 'xx' | replace('x', 'y', a) }}", "replace may only have literal strings"},
		{"{{ 'xx' | list | join('xxxxx') }}", "join may only have a literal string of up to 4"},
		{"{% set s = 'ab' %}{{ s | list | join(s) }}", "join may only have a literal string of up to 4"},
		{"{{ '{0}{0}'.format('ab') }}", ".format() is not allowed"},
		{"{% set s = 'aa' %}{{ (s.replace)('a', s) }}", "replace may only have literal strings"},
		{"{% set f = 'a'.replace %}{{ f('a', 'bbbbbbbbbb') }}", "replace may only have literal strings"},
		{"{% set f = 'a,b'.split %}{{ 'a' | f(',') }}", "unknown filter \"f\""},
	}
	for _, c := range refused {
		got, err := r.render(c.src)
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("render(%q) = %q, %v; want an error mentioning %q", c.src, got, err, c.err)
		}
		if err != nil && (strings.Contains(err.Error(), "dapi123") || !strings.HasPrefix(err.Error(), "Jinja") && r.failure == nil) {
			t.Errorf("render(%q) error %q quotes a value or does not start with Jinja", c.src, err)
		}
	}
}

// The deepest nesting that fits in maxJinjaSize renders, or fails, but
// does not overflow the stack.
func TestRenderDeepNesting(t *testing.T) {
	n := maxJinjaSize/2 - 16
	r := &renderer{env: env(nil)}
	for _, src := range []string{
		"{{ " + strings.Repeat("(", n) + "1" + strings.Repeat(")", n) + " }}",
		"{{ " + strings.Repeat("[", n) + "1" + strings.Repeat("]", n) + " }}",
		"{{ 1" + strings.Repeat("+1", n-10) + " }}",
		"{{ " + strings.Repeat("-", 2*n) + "1 }}",
		"{{ " + strings.Repeat("not ", n/2) + "1 }}",
		"{{ 'x'" + strings.Repeat("|trim", n/3) + " }}",
		"{{ 'x'" + strings.Repeat(".strip()", n/5) + " }}",
		"{{ 1" + strings.Repeat(" if 1 else 1", n/7) + " }}",
		strings.Repeat("{% if 1 %}", n/6) + "x",
		"{% set a = 1 %}" + strings.Repeat("{% set a = [a] %}", n/10) + "{{ a }}",
	} {
		if len(src) > maxJinjaSize {
			t.Fatalf("case of %d bytes is over the limit", len(src))
		}
		_, err := r.render(src)
		t.Logf("%.30s...: %v", src, err)
	}
}

// FuzzJinjaPolicy checks checkProfileJinja against the engine itself: what
// it lets through, the engine compiles into no node or expression that the
// policy refuses (it reads the template by a copy of the engine's scanner
// and tokenizer, which this keeps honest). And rendering never panics.
func FuzzJinjaPolicy(f *testing.F) {
	for _, seed := range []string{
		"{{ env_var('SET', 'x') | lower }}",
		"{% if a %}x{% elif b %}y{% else %}z{% endif %}",
		"{% set x = 'a' %}{% set y %}b{% endset %}{{ x ~ y }}",
		"{% for x in 'ab' %}{{ x }}{% endfor %}",
		"{%- for x in y -%}{%+ macro m() %}{% endmacro %}",
		"{{ 'ab'[1:] }}{{ 'ab'[::-1] }}{{ 'ab'[:-99999] }}",
		"{{ 'x' * 3 }}{{ 2 ** 3 }}{{ a // b }}",
		"{{ x | indent(2) }}{{ x | tojson }}{{ x.append(1) }}",
		"{% set ns.a = 1 %}{{ __filter_lower('A') }}",
		"{{ '}}' }}{% if '%}' %}{% endif %}{# '#} {% for %}",
		"{{ {'a': [1, 2][0:1]} }}{{ x[(1)] }}",
		"{{ 'a\\'b' }}{% set a = \"%}\" %}",
		"{{ 'a.b' | replace('.', '__') }}{{ 'xx'.replace('x', 'y', 1) }}{{ (s.replace)('a', s) }}{{ ['a'] | join(', ') }}",
	} {
		f.Add(seed)
	}
	r := &renderer{env: env(map[string]string{"SET": "value"})}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 4096 {
			return
		}
		if _, _, err := checkProfileJinja(src); err == nil {
			if tpl, err := jinja.Compile(src); err == nil {
				if bad := policyViolation(reflect.ValueOf(tpl)); bad != "" {
					t.Fatalf("checkProfileJinja let %q through, which compiles to %s", src, bad)
				}
			}
		}
		_, _ = r.render(src)
	})
}

// policyViolation walks what the engine compiled (its types are not
// exported: by reflection) and names what the policy should have refused.
// growingCall returns what is wrong with the arguments of a call to
// replace or join (the filter's arguments after its input), whose output
// grows with them: they must be literal strings (replace may add an int
// count), replace's first not empty and its second at most twice as long,
// join's at most maxJoinSep bytes.
func growingCall(name string, args, kwargs reflect.Value) string {
	if kwargs.Len() > 0 {
		return name + " with keyword arguments"
	}
	lit := func(i int) (string, bool) {
		e := args.Index(i).Elem().Elem()
		if e.Type().Name() != "litExpr" {
			return "", false
		}
		val := e.FieldByName("val").FieldByName("v").Elem()
		if val.Kind() != reflect.String {
			return "", false
		}
		return val.String(), true
	}
	switch name {
	case "replace":
		if args.Len() == 0 {
			return "replace not called at once"
		}
		old, ok1 := lit(0)
		repl, ok2 := lit(1 % args.Len())
		if args.Len() < 2 || args.Len() > 3 || !ok1 || !ok2 || old == "" || len(repl) > 2*len(old) {
			return "replace with computed or growing arguments"
		}
	case "join":
		if args.Len() == 0 {
			return ""
		}
		if sep, ok := lit(0); args.Len() > 1 || !ok || len(sep) > maxJoinSep {
			return "join with a computed or long separator"
		}
	}
	return ""
}

func policyViolation(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return ""
		}
		return policyViolation(v.Elem())
	case reflect.Slice:
		for i := range v.Len() {
			if bad := policyViolation(v.Index(i)); bad != "" {
				return bad
			}
		}
		return ""
	case reflect.Struct:
	default:
		return ""
	}
	str := func(name string) string { return v.FieldByName(name).String() }
	switch typ := v.Type().Name(); typ {
	case "Template", "textNode", "outputNode", "ifNode", "condBranch", "setBlockNode",
		"litExpr", "nameExpr", "itemExpr", "unaryExpr", "condExpr", "testExpr",
		"listExpr", "dictExpr", "dictPair", "kwarg":
		if typ == "nameExpr" && strings.HasPrefix(str("name"), "__") {
			return "a name starting with __"
		}
	case "Value":
		return "" // a literal
	case "setNode":
		if str("namespace") != "" {
			return "an attribute set"
		}
	case "binExpr":
		if str("op") == "*" {
			return "a *"
		}
	case "filterExpr":
		if n := str("name"); !profileFilters[n] {
			return "the filter " + n
		}
		if n := str("name"); n == "replace" || n == "join" {
			if bad := growingCall(n, v.FieldByName("args"), v.FieldByName("kwargs")); bad != "" {
				return bad
			}
		}
	case "callExpr":
		if fn := v.FieldByName("fn").Elem().Elem(); fn.Type().Name() == "attrExpr" && fn.FieldByName("attr").String() == "replace" {
			if bad := growingCall("replace", v.FieldByName("args"), v.FieldByName("kwargs")); bad != "" {
				return bad
			}
			// A .replace called at once: what is left to check is what it
			// is called on and with.
			for _, part := range []reflect.Value{fn.FieldByName("obj"), v.FieldByName("args")} {
				if bad := policyViolation(part); bad != "" {
					return bad
				}
			}
			return ""
		}
	case "attrExpr":
		switch a := str("attr"); a {
		case "append", "insert", "pop", "update", "format", "replace":
			// .replace only called at once: see callExpr.
			return "." + a
		}
	case "sliceExpr":
		for _, name := range []string{"start", "stop", "step"} {
			b := v.FieldByName(name)
			if b.IsNil() {
				continue
			}
			b = b.Elem().Elem()
			if b.Type().Name() == "unaryExpr" && b.FieldByName("op").String() == "-" {
				b = b.FieldByName("operand").Elem().Elem()
			}
			if b.Type().Name() != "litExpr" {
				return "a slice bound that is a " + b.Type().Name()
			}
			if n := b.FieldByName("val").FieldByName("v").Elem(); n.Kind() != reflect.Int64 || n.Int() > 99999 {
				return "a slice bound of " + n.String()
			}
		}
	default:
		return "a " + typ
	}
	for i := range v.NumField() {
		if bad := policyViolation(v.Field(i)); bad != "" {
			return bad
		}
	}
	return ""
}

// policyViolation itself sees what FuzzJinjaPolicy relies on it to see.
func TestPolicyViolation(t *testing.T) {
	for src, want := range map[string]string{
		"{% if a %}{% set b = c.d[0] if e else f | lower %}{% set g %}h{% endset %}{% endif %}{{ i(j=k) is l }}{{ 'x'[1:-2:3] }}{{ {'a': [1]} }}": "",
		"{% for x in y %}{% endfor %}":       "a forNode",
		"{% macro m() %}{% endmacro %}":      "a macroNode",
		"{% set a.b = 1 %}":                  "an attribute set",
		"{% if 1 %}{{ 'x' * 2 }}{% endif %}": "a *",
		"{{ x | indent }}":                   "the filter indent",
		"{{ x.pop() }}":                      ".pop",
		"{{ __filter_trim }}":                "a name starting with __",
		"{{ x[:y] }}":                        "a slice bound that is a nameExpr",
		"{{ x[:100000] }}":                   "a slice bound of <int64 Value>",
	} {
		tpl, err := jinja.Compile(src)
		if err != nil {
			t.Fatalf("Compile(%q): %v", src, err)
		}
		if got := policyViolation(reflect.ValueOf(tpl)); got != want {
			t.Errorf("policyViolation(%q) = %q, want %q", src, got, want)
		}
	}
}
