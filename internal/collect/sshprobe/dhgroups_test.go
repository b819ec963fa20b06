package sshprobe

import (
	"math/big"
	"testing"
)

// arctanInv returns arctan(1/x) scaled by 2^prec (Gregory's series).
func arctanInv(x int64, prec uint) *big.Int {
	term := new(big.Int).Div(new(big.Int).Lsh(big.NewInt(1), prec), big.NewInt(x))
	sum := new(big.Int).Set(term)
	xx := big.NewInt(x * x)
	for k := int64(1); term.Sign() != 0; k++ {
		term.Div(term, xx)
		t := new(big.Int).Div(term, big.NewInt(2*k+1))
		if k%2 == 1 {
			sum.Sub(sum, t)
		} else {
			sum.Add(sum, t)
		}
	}
	return sum
}

// TestFixedGroupPrimes recomputes every fixed group's prime from its
// definition in RFC 2409 and RFC 3526, p = 2^n - 2^(n-64) - 1 +
// 2^64 * (floor(2^(n-130) * pi) + k), with pi from Machin's formula, and
// checks the smaller ones are safe primes.
func TestFixedGroupPrimes(t *testing.T) {
	for _, g := range []struct {
		name  string
		hex   string
		n     uint
		k     int64
		kexes []string
	}{
		{"oakley2", oakley2, 1024, 129093, []string{"diffie-hellman-group1-sha1"}},
		{"modp2048", modp2048, 2048, 124476, []string{"diffie-hellman-group14-sha1", "diffie-hellman-group14-sha256"}},
		{"modp4096", modp4096, 4096, 240904, []string{"diffie-hellman-group16-sha512"}},
		{"modp8192", modp8192, 8192, 4743158, []string{"diffie-hellman-group18-sha512"}},
	} {
		t.Run(g.name, func(t *testing.T) {
			const guard = 64
			prec := g.n - 130 + guard
			pi := new(big.Int).Mul(arctanInv(5, prec), big.NewInt(16))
			pi.Sub(pi, new(big.Int).Mul(arctanInv(239, prec), big.NewInt(4)))
			pi.Rsh(pi, guard)
			want := new(big.Int).Lsh(big.NewInt(1), g.n)
			want.Sub(want, new(big.Int).Lsh(big.NewInt(1), g.n-64))
			want.Sub(want, big.NewInt(1))
			want.Add(want, new(big.Int).Lsh(pi.Add(pi, big.NewInt(g.k)), 64))
			p, gen := dhParams(g.hex)
			if p.Cmp(want) != 0 || p.BitLen() != int(g.n) || gen.Int64() != 2 {
				t.Fatalf("prime differs from the RFC's definition")
			}
			// The 8192-bit test alone takes seconds; its equality with the
			// RFC's definition is checked above.
			if g.n <= 4096 && (!p.ProbablyPrime(1) || !new(big.Int).Rsh(p, 1).ProbablyPrime(1)) {
				t.Fatal("not a safe prime")
			}
			for _, kex := range g.kexes {
				if m := kexMethods[kex]; m.prime != g.hex || m.kind != "dh" || !m.full {
					t.Errorf("%s does not use %s", kex, g.name)
				}
			}
		})
	}
}
