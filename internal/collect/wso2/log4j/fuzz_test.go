package log4j

import "testing"

func FuzzProperties(f *testing.F) {
	f.Add([]byte("appender.A.type = RollingFile\nappender.A.layout.pattern = [%u] %m%n\nappender.A.policies.time.type = TimeBasedTriggeringPolicy\nappender.A.strategy.max = 20\n"))
	f.Add([]byte("a\\\n b=c\\u0041\\\\\n! comment\nkey:value\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		props := ParseProperties(data)
		for _, p := range props {
			if p.Line < 1 {
				t.Fatalf("line %d", p.Line)
			}
		}
		_ = Appenders(props)
	})
}
