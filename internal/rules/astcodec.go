package rules

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	exprpb "google.golang.org/genproto/googleapis/api/expr/v1alpha1"
)

// The checked expressions of a compiled file are stored in a compact
// binary form of cel-go's own AST (common/ast), not as CheckedExpr
// protobuf messages: decoding a protobuf message, then converting it and
// each of its types (through a second protobuf conversion) into that AST
// cost a fresh process more than planning the programs did (the protobuf
// runtime builds its message tables on first use). decodeAST builds the
// same AST cel.CheckedExprToAst would (TestASTCodecSameAsProto compares
// them for every built-in expression) straight from the bytes.
//
// An expression is its kind, its ID and its parts; a string is its length
// and bytes; integers are varints. The type map and the reference map
// follow the expression, then the source description.

// Expression kinds.
const (
	codeUnspecified byte = iota
	codeLiteral
	codeIdent
	codeSelect
	codePresence
	codeCall
	codeMemberCall
	codeList
	codeMap
	codeStruct
	codeComprehension
)

// Literal kinds (the constants of ast.ValToConstant).
const (
	litNone byte = iota
	litBool
	litBytes
	litDouble
	litInt
	litNull
	litString
	litUint
)

// Type kinds (the cases of types.ProtoAsType).
const (
	typeDyn byte = iota
	typeAbstract
	typeList
	typeMap
	typeMessage
	typeNull
	typePrimitive
	typeParam
	typeType
	typeWellKnown
	typeWrapper
	typeError
)

// maxASTDepth bounds the nesting a decoded expression may have (cel-go
// refuses deeper loaded ASTs too); a deeper one is a damaged file.
const maxASTDepth = 250

// encodeAST writes a checked AST in the form decodeAST reads.
func encodeAST(a *ast.AST) ([]byte, error) {
	e := &astEncoder{}
	e.expr(a.Expr(), 0)
	tm := a.TypeMap()
	e.uint(uint64(len(tm)))
	for _, id := range sortedIDs(tm) {
		e.int(id)
		pt, err := types.TypeToExprType(tm[id])
		if err != nil {
			return nil, fmt.Errorf("type of expression %d: %w", id, err)
		}
		e.exprType(pt, 0)
	}
	rm := a.ReferenceMap()
	e.uint(uint64(len(rm)))
	for _, id := range sortedIDs(rm) {
		r := rm[id]
		e.int(id)
		e.str(r.Name)
		e.uint(uint64(len(r.OverloadIDs)))
		for _, o := range r.OverloadIDs {
			e.str(o)
		}
		e.literal(r.Value)
	}
	info := a.SourceInfo()
	if len(info.Extensions()) > 0 || len(info.MacroCalls()) > 0 {
		e.fail(errors.New("source extensions and macro calls are not stored"))
	}
	e.str(info.SyntaxVersion())
	e.str(info.Description())
	return e.buf, e.err
}

func sortedIDs[V any](m map[int64]V) []int64 {
	ids := make([]int64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

type astEncoder struct {
	buf []byte
	err error
}

func (e *astEncoder) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

func (e *astEncoder) byte(b byte)   { e.buf = append(e.buf, b) }
func (e *astEncoder) uint(n uint64) { e.buf = binary.AppendUvarint(e.buf, n) }
func (e *astEncoder) int(n int64)   { e.buf = binary.AppendVarint(e.buf, n) }
func (e *astEncoder) str(s string)  { e.uint(uint64(len(s))); e.buf = append(e.buf, s...) }
func (e *astEncoder) bool(b bool) {
	if b {
		e.byte(1)
	} else {
		e.byte(0)
	}
}
func (e *astEncoder) exprs(xs []ast.Expr, depth int) {
	e.uint(uint64(len(xs)))
	for _, x := range xs {
		e.expr(x, depth)
	}
}

func (e *astEncoder) expr(x ast.Expr, depth int) {
	if depth > maxASTDepth {
		e.fail(errors.New("expression nested too deeply"))
		return
	}
	depth++
	switch x.Kind() {
	case ast.LiteralKind:
		e.byte(codeLiteral)
		e.int(x.ID())
		if x.AsLiteral() == nil {
			e.fail(errors.New("literal without a value"))
		}
		e.literal(x.AsLiteral())
	case ast.IdentKind:
		e.byte(codeIdent)
		e.int(x.ID())
		e.str(x.AsIdent())
	case ast.SelectKind:
		s := x.AsSelect()
		if s.IsTestOnly() {
			e.byte(codePresence)
		} else {
			e.byte(codeSelect)
		}
		e.int(x.ID())
		e.str(s.FieldName())
		e.expr(s.Operand(), depth)
	case ast.CallKind:
		c := x.AsCall()
		if c.IsMemberFunction() {
			e.byte(codeMemberCall)
		} else {
			e.byte(codeCall)
		}
		e.int(x.ID())
		e.str(c.FunctionName())
		if c.IsMemberFunction() {
			e.expr(c.Target(), depth)
		}
		e.exprs(c.Args(), depth)
	case ast.ListKind:
		l := x.AsList()
		e.byte(codeList)
		e.int(x.ID())
		e.exprs(l.Elements(), depth)
		e.uint(uint64(len(l.OptionalIndices())))
		for _, i := range l.OptionalIndices() {
			e.int(int64(i))
		}
	case ast.MapKind:
		m := x.AsMap()
		e.byte(codeMap)
		e.int(x.ID())
		e.uint(uint64(len(m.Entries())))
		for _, en := range m.Entries() {
			me := en.AsMapEntry()
			e.int(en.ID())
			e.bool(me.IsOptional())
			e.expr(me.Key(), depth)
			e.expr(me.Value(), depth)
		}
	case ast.StructKind:
		s := x.AsStruct()
		e.byte(codeStruct)
		e.int(x.ID())
		e.str(s.TypeName())
		e.uint(uint64(len(s.Fields())))
		for _, f := range s.Fields() {
			sf := f.AsStructField()
			e.int(f.ID())
			e.bool(sf.IsOptional())
			e.str(sf.Name())
			e.expr(sf.Value(), depth)
		}
	case ast.ComprehensionKind:
		c := x.AsComprehension()
		e.byte(codeComprehension)
		e.int(x.ID())
		e.str(c.IterVar())
		e.str(c.IterVar2())
		e.str(c.AccuVar())
		for _, p := range []ast.Expr{c.IterRange(), c.AccuInit(), c.LoopCondition(), c.LoopStep(), c.Result()} {
			e.expr(p, depth)
		}
	case ast.UnspecifiedExprKind:
		e.byte(codeUnspecified)
		e.int(x.ID())
	default:
		e.fail(fmt.Errorf("expression kind %v", x.Kind()))
	}
}

func (e *astEncoder) literal(v ref.Val) {
	if v == nil {
		e.byte(litNone)
		return
	}
	switch v.Type() {
	case types.BoolType:
		e.byte(litBool)
		e.bool(bool(v.(types.Bool)))
	case types.BytesType:
		e.byte(litBytes)
		e.str(string(v.(types.Bytes)))
	case types.DoubleType:
		e.byte(litDouble)
		e.uint(math.Float64bits(float64(v.(types.Double))))
	case types.IntType:
		e.byte(litInt)
		e.int(int64(v.(types.Int)))
	case types.NullType:
		e.byte(litNull)
	case types.StringType:
		e.byte(litString)
		e.str(string(v.(types.String)))
	case types.UintType:
		e.byte(litUint)
		e.uint(uint64(v.(types.Uint)))
	default:
		e.fail(fmt.Errorf("constant of type %v", v.Type()))
	}
}

// exprType writes a type in its protobuf shape (types.TypeToExprType),
// which decodeType turns back as types.ProtoAsType does.
func (e *astEncoder) exprType(t *exprpb.Type, depth int) {
	if depth > maxASTDepth {
		e.fail(errors.New("type nested too deeply"))
		return
	}
	depth++
	switch k := t.GetTypeKind().(type) {
	case *exprpb.Type_Dyn:
		e.byte(typeDyn)
	case *exprpb.Type_AbstractType_:
		e.byte(typeAbstract)
		e.str(k.AbstractType.GetName())
		e.uint(uint64(len(k.AbstractType.GetParameterTypes())))
		for _, p := range k.AbstractType.GetParameterTypes() {
			e.exprType(p, depth)
		}
	case *exprpb.Type_ListType_:
		e.byte(typeList)
		e.exprType(k.ListType.GetElemType(), depth)
	case *exprpb.Type_MapType_:
		e.byte(typeMap)
		e.exprType(k.MapType.GetKeyType(), depth)
		e.exprType(k.MapType.GetValueType(), depth)
	case *exprpb.Type_MessageType:
		e.byte(typeMessage)
		e.str(k.MessageType)
	case *exprpb.Type_Null:
		e.byte(typeNull)
	case *exprpb.Type_Primitive:
		e.byte(typePrimitive)
		e.uint(uint64(k.Primitive))
	case *exprpb.Type_TypeParam:
		e.byte(typeParam)
		e.str(k.TypeParam)
	case *exprpb.Type_Type:
		e.byte(typeType)
		e.bool(k.Type.GetTypeKind() != nil)
		if k.Type.GetTypeKind() != nil {
			e.exprType(k.Type, depth)
		}
	case *exprpb.Type_WellKnown:
		e.byte(typeWellKnown)
		e.uint(uint64(k.WellKnown))
	case *exprpb.Type_Wrapper:
		e.byte(typeWrapper)
		e.uint(uint64(k.Wrapper))
	case *exprpb.Type_Error:
		e.byte(typeError)
	default:
		e.fail(fmt.Errorf("type %v", t))
	}
}

// decodeAST reads what encodeAST wrote. Damaged input is an error, never
// a panic, and costs at most its own length in nodes.
func decodeAST(b string) (*ast.AST, error) {
	d := &astDecoder{rest: b, fac: ast.NewExprFactory()}
	root := d.expr(0)
	n := d.count()
	tm := make(map[int64]*types.Type, n)
	for i := 0; i < n && d.err == nil; i++ {
		id := d.int()
		tm[id] = d.typ(0)
	}
	n = d.count()
	rm := make(map[int64]*ast.ReferenceInfo, n)
	for i := 0; i < n && d.err == nil; i++ {
		id := d.int()
		r := &ast.ReferenceInfo{Name: d.str()}
		if k := d.count(); k > 0 {
			r.OverloadIDs = make([]string, k)
			for j := range r.OverloadIDs {
				r.OverloadIDs[j] = d.str()
			}
		}
		r.Value = d.literal()
		rm[id] = r
	}
	syntax, desc := d.str(), d.str()
	if d.err == nil && d.rest != "" {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return nil, d.err
	}
	info, err := ast.ProtoToSourceInfo(&exprpb.SourceInfo{SyntaxVersion: syntax, Location: desc})
	if err != nil {
		return nil, err
	}
	return ast.NewCheckedAST(ast.NewAST(root, info), tm, rm), nil
}

type astDecoder struct {
	rest string
	fac  ast.ExprFactory
	err  error
}

func (d *astDecoder) fail(msg string) {
	if d.err == nil {
		d.err = errors.New("checked expression: " + msg)
	}
	d.rest = ""
}

func (d *astDecoder) byte() byte {
	if d.rest == "" {
		d.fail("truncated")
		return 0
	}
	b := d.rest[0]
	d.rest = d.rest[1:]
	return b
}

func (d *astDecoder) uint() uint64 {
	n, w := uvarint(d.rest)
	if w <= 0 {
		d.fail("bad number")
		return 0
	}
	d.rest = d.rest[w:]
	return n
}

func (d *astDecoder) int() int64 {
	u := d.uint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

// count reads a length, which cannot exceed the bytes left (every item
// takes at least one).
func (d *astDecoder) count() int {
	n := d.uint()
	if n > uint64(len(d.rest)) {
		d.fail("bad length")
		return 0
	}
	return int(n)
}

func (d *astDecoder) str() string {
	n := d.count()
	s := d.rest[:n]
	d.rest = d.rest[n:]
	return s
}

func (d *astDecoder) bool() bool {
	switch d.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail("bad flag")
	return false
}

func (d *astDecoder) exprs(depth int) []ast.Expr {
	n := d.count()
	out := make([]ast.Expr, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		out = append(out, d.expr(depth))
	}
	return out
}

func (d *astDecoder) expr(depth int) ast.Expr {
	if depth > maxASTDepth {
		d.fail("nested too deeply")
	}
	depth++
	code := d.byte()
	id := d.int()
	if d.err != nil {
		return d.fac.NewUnspecifiedExpr(id)
	}
	switch code {
	case codeUnspecified:
		return d.fac.NewUnspecifiedExpr(id)
	case codeLiteral:
		v := d.literal()
		if v == nil {
			d.fail("literal without a value")
			return d.fac.NewUnspecifiedExpr(id)
		}
		return d.fac.NewLiteral(id, v)
	case codeIdent:
		return d.fac.NewIdent(id, d.str())
	case codeSelect, codePresence:
		field := d.str()
		operand := d.expr(depth)
		if code == codePresence {
			return d.fac.NewPresenceTest(id, operand, field)
		}
		return d.fac.NewSelect(id, operand, field)
	case codeCall:
		fn := d.str()
		return d.fac.NewCall(id, fn, d.exprs(depth)...)
	case codeMemberCall:
		fn := d.str()
		target := d.expr(depth)
		return d.fac.NewMemberCall(id, fn, target, d.exprs(depth)...)
	case codeList:
		elems := d.exprs(depth)
		var opt []int32
		if n := d.count(); n > 0 {
			opt = make([]int32, n)
			for i := range opt {
				x := d.int()
				if x < 0 || x >= int64(len(elems)) {
					d.fail("bad optional index")
				}
				opt[i] = int32(x)
			}
		}
		if d.err != nil {
			return d.fac.NewUnspecifiedExpr(id)
		}
		return d.fac.NewList(id, elems, opt)
	case codeMap:
		n := d.count()
		entries := make([]ast.EntryExpr, 0, n)
		for i := 0; i < n && d.err == nil; i++ {
			eid, opt := d.int(), d.bool()
			k := d.expr(depth)
			v := d.expr(depth)
			entries = append(entries, d.fac.NewMapEntry(eid, k, v, opt))
		}
		return d.fac.NewMap(id, entries)
	case codeStruct:
		name := d.str()
		n := d.count()
		fields := make([]ast.EntryExpr, 0, n)
		for i := 0; i < n && d.err == nil; i++ {
			fid, opt, fname := d.int(), d.bool(), d.str()
			fields = append(fields, d.fac.NewStructField(fid, fname, d.expr(depth), opt))
		}
		return d.fac.NewStruct(id, name, fields)
	case codeComprehension:
		iv, iv2, av := d.str(), d.str(), d.str()
		var p [5]ast.Expr
		for i := range p {
			p[i] = d.expr(depth)
		}
		return d.fac.NewComprehensionTwoVar(id, p[0], iv, iv2, av, p[1], p[2], p[3], p[4])
	}
	d.fail("bad expression kind")
	return d.fac.NewUnspecifiedExpr(id)
}

func (d *astDecoder) literal() ref.Val {
	switch d.byte() {
	case litNone:
		return nil
	case litBool:
		return types.Bool(d.bool())
	case litBytes:
		return types.Bytes(d.str())
	case litDouble:
		return types.Double(math.Float64frombits(d.uint()))
	case litInt:
		return types.Int(d.int())
	case litNull:
		return types.NullValue
	case litString:
		return types.String(d.str())
	case litUint:
		return types.Uint(d.uint())
	}
	d.fail("bad literal")
	return nil
}

func (d *astDecoder) typ(depth int) *types.Type {
	if depth > maxASTDepth {
		d.fail("type nested too deeply")
		return types.DynType
	}
	depth++
	switch d.byte() {
	case typeDyn:
		return types.DynType
	case typeAbstract:
		name := d.str()
		n := d.count()
		params := make([]*types.Type, 0, n)
		for i := 0; i < n && d.err == nil; i++ {
			params = append(params, d.typ(depth))
		}
		return types.NewOpaqueType(name, params...)
	case typeList:
		return types.NewListType(d.typ(depth))
	case typeMap:
		k := d.typ(depth)
		return types.NewMapType(k, d.typ(depth))
	case typeMessage:
		return types.NewObjectType(d.str())
	case typeNull:
		return types.NullType
	case typePrimitive:
		if t, ok := primitiveType(exprpb.Type_PrimitiveType(d.uint())); ok {
			return t
		}
	case typeParam:
		return types.NewTypeParamType(d.str())
	case typeType:
		if d.bool() {
			return types.NewTypeTypeWithParam(d.typ(depth))
		}
		return types.TypeType
	case typeWellKnown:
		switch exprpb.Type_WellKnownType(d.uint()) {
		case exprpb.Type_ANY:
			return types.AnyType
		case exprpb.Type_DURATION:
			return types.DurationType
		case exprpb.Type_TIMESTAMP:
			return types.TimestampType
		}
	case typeWrapper:
		if t, ok := primitiveType(exprpb.Type_PrimitiveType(d.uint())); ok {
			return types.NewNullableType(t)
		}
	case typeError:
		return types.ErrorType
	}
	d.fail("bad type")
	return types.DynType
}

func primitiveType(p exprpb.Type_PrimitiveType) (*types.Type, bool) {
	switch p {
	case exprpb.Type_BOOL:
		return types.BoolType, true
	case exprpb.Type_BYTES:
		return types.BytesType, true
	case exprpb.Type_DOUBLE:
		return types.DoubleType, true
	case exprpb.Type_INT64:
		return types.IntType, true
	case exprpb.Type_STRING:
		return types.StringType, true
	case exprpb.Type_UINT64:
		return types.UintType, true
	}
	return nil, false
}
