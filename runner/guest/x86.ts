// A tiny x86-64 assembler: exactly the instructions the guest scan programs use, with labels.
// Encodings follow the Intel SDM vol. 2; test/x86.test.ts checks every form against objdump.

export interface Reg {
  readonly kind: 'reg';
  /** 0..15 (rax..r15) */
  readonly n: number;
  /** operand width in bits */
  readonly w: 8 | 16 | 32 | 64;
  readonly name: string;
}
export interface Mem {
  readonly kind: 'mem';
  readonly base: Reg;
  readonly disp: number;
  /** access width in bits */
  readonly w: 8 | 16 | 32 | 64;
}

const names64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const names32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d'];
const names16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di', 'r8w', 'r9w', 'r10w', 'r11w', 'r12w', 'r13w', 'r14w', 'r15w'];
const names8 = ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil', 'r8b', 'r9b', 'r10b', 'r11b', 'r12b', 'r13b', 'r14b', 'r15b'];
const mk = (n: number, w: Reg['w']): Reg => ({
  kind: 'reg',
  n,
  w,
  name: (w === 64 ? names64 : w === 32 ? names32 : w === 16 ? names16 : names8)[n],
});
const bank = (w: Reg['w']) => Object.fromEntries(names64.map((_, i) => [[names64, names32, names16, names8][[64, 32, 16, 8].indexOf(w)][i], mk(i, w)]));

/** All general registers by name: r.rax, r.eax, r.ax, r.al, r.r15d … */
export const r = { ...bank(64), ...bank(32), ...bank(16), ...bank(8) } as Record<string, Reg>;

/** A memory operand [base + disp] of the given width. */
export function mem(base: Reg, disp = 0, w: Mem['w'] = 64): Mem {
  if (base.w !== 64) throw new Error(`address base must be a 64-bit register, got ${base.name}`);
  return { kind: 'mem', base, disp, w };
}

export type Cond = 'o' | 'no' | 'b' | 'ae' | 'e' | 'ne' | 'be' | 'a' | 's' | 'ns' | 'l' | 'ge' | 'le' | 'g';
const condCode: Record<Cond, number> = { o: 0, no: 1, b: 2, ae: 3, e: 4, ne: 5, be: 6, a: 7, s: 8, ns: 9, l: 0xc, ge: 0xd, le: 0xe, g: 0xf };

type Alu = 'add' | 'or' | 'and' | 'sub' | 'xor' | 'cmp';
const aluExt: Record<Alu, number> = { add: 0, or: 1, and: 4, sub: 5, xor: 6, cmp: 7 };

const fitsI8 = (v: number) => v >= -128 && v <= 127;
const fitsI32 = (v: number) => v >= -0x80000000 && v <= 0x7fffffff;

/** Immediates are range-checked, never silently truncated: a w-bit operand takes any signed or
 *  unsigned w-bit value, except that 64-bit ALU/test immediates are imm32, sign-extended
 *  (only movImm takes a full 64-bit value). */
function checkImm(v: number | bigint, w: number, full64 = false): void {
  if (typeof v === 'number' && !Number.isInteger(v)) throw new Error(`immediate ${v} is not an integer`);
  const imm32 = w === 64 && !full64;
  const lo = -(1n << BigInt((imm32 ? 32 : w) - 1));
  const hi = imm32 ? (1n << 31n) - 1n : (1n << BigInt(w)) - 1n;
  const b = BigInt(v);
  if (b < lo || b > hi) throw new Error(`immediate ${v} does not fit a ${w}-bit operand${imm32 ? ' (sign-extended imm32)' : ''}`);
}

function checkDisp(rm: Reg | Mem): void {
  if (rm.kind === 'mem' && !(Number.isInteger(rm.disp) && fitsI32(rm.disp))) {
    throw new Error(`displacement ${rm.disp} does not fit 32 bits`);
  }
}

export class Label {
  pos = -1;
  constructor(readonly name: string) {}
}

export class Asm {
  private bytes: number[] = [];
  private fixups: { at: number; label: Label }[] = [];
  private labelCount = 0;

  /** @param origin guest address of the first byte (for absolute label addresses). */
  constructor(readonly origin = 0) {}

  get pos(): number {
    return this.bytes.length;
  }
  /** A fresh, unbound label. */
  label(name = `L${this.labelCount++}`): Label {
    return new Label(name);
  }
  /** Binds a label to the current position. */
  bind(l: Label): this {
    if (l.pos >= 0) throw new Error(`label ${l.name} bound twice`);
    l.pos = this.pos;
    return this;
  }
  /** Guest address of a bound label. */
  addressOf(l: Label): number {
    if (l.pos < 0) throw new Error(`label ${l.name} is not bound`);
    return this.origin + l.pos;
  }

  private emit(...b: number[]): void {
    for (const x of b) this.bytes.push(x & 0xff);
  }
  private imm(v: number, size: number): void {
    let x = BigInt.asUintN(size * 8, BigInt(v));
    for (let i = 0; i < size; i++) {
      this.bytes.push(Number(x & 0xffn));
      x >>= 8n;
    }
  }
  /** Legacy prefix, REX, opcode, ModRM (+SIB, disp) for `op reg/ext, rm`. */
  private modrm(opcode: number[], regField: number, rm: Reg | Mem, w: number, byteRegs: Reg[] = []): void {
    checkDisp(rm);
    if (w === 16) this.emit(0x66);
    let rex = 0;
    if (w === 64) rex |= 8;
    if (regField & 8) rex |= 4;
    const base = rm.kind === 'reg' ? rm : rm.base;
    if (base.n & 8) rex |= 1;
    // spl/bpl/sil/dil need a REX prefix to be addressable as byte registers (without one,
    // 4..7 mean ah/ch/dh/bh) — whether they sit in the reg field or in r/m.
    const needsRex = [...byteRegs, ...(rm.kind === 'reg' ? [rm] : [])].some((x) => x.w === 8 && x.n >= 4 && x.n < 8);
    if (rex || needsRex) this.emit(0x40 | rex);
    this.emit(...opcode);
    const reg3 = regField & 7;
    if (rm.kind === 'reg') {
      this.emit(0xc0 | (reg3 << 3) | (rm.n & 7));
      return;
    }
    const b3 = rm.base.n & 7;
    const mod = rm.disp === 0 && b3 !== 5 ? 0 : fitsI8(rm.disp) ? 1 : 2;
    this.emit((mod << 6) | (reg3 << 3) | b3);
    if (b3 === 4) this.emit(0x24); // SIB: base = rsp/r12, no index
    if (mod === 1) this.imm(rm.disp, 1);
    if (mod === 2) this.imm(rm.disp, 4);
  }

  /** mov reg, imm (64-bit registers get the short form when the value fits 32 bits unsigned). */
  movImm(dst: Reg, v: number | bigint): this {
    if (dst.w < 32) throw new Error(`movImm needs a 32- or 64-bit register, got ${dst.name}`);
    checkImm(v, dst.w, true);
    const big = BigInt(v);
    if (dst.w === 64 && (big < 0n || big > 0xffffffffn)) {
      this.emit(0x48 | (dst.n >> 3), 0xb8 + (dst.n & 7));
      let x = BigInt.asUintN(64, big);
      for (let i = 0; i < 8; i++) {
        this.emit(Number(x & 0xffn));
        x >>= 8n;
      }
      return this;
    }
    // mov r32, imm32 zero-extends into the 64-bit register.
    if (dst.n & 8) this.emit(0x41);
    this.emit(0xb8 + (dst.n & 7));
    this.imm(Number(big), 4);
    return this;
  }
  /** mov dst, src — register/register, load or store. */
  mov(dst: Reg | Mem, src: Reg | Mem): this {
    if (src.kind === 'reg') {
      this.modrm([src.w === 8 ? 0x88 : 0x89], src.n, dst, src.w, [src]);
    } else {
      if (dst.kind !== 'reg') throw new Error('mov mem, mem');
      this.modrm([dst.w === 8 ? 0x8a : 0x8b], dst.n, src, dst.w, [dst]);
    }
    return this;
  }
  /** movzx r32, byte/word [mem] or r32, r8/r16. */
  movzx(dst: Reg, src: Reg | Mem): this {
    if ((src.w !== 8 && src.w !== 16) || dst.w <= src.w) throw new Error(`movzx ${dst.w}-bit from ${src.w}-bit is not an encodable form`);
    this.modrm([0x0f, src.w === 8 ? 0xb6 : 0xb7], dst.n, src, dst.w, src.kind === 'reg' ? [src] : []);
    return this;
  }
  /** add/or/and/sub/xor/cmp with a register or an immediate. */
  alu(op: Alu, dst: Reg | Mem, src: Reg | number): this {
    if (typeof src === 'number') {
      checkImm(src, dst.w);
      if (dst.w === 8) {
        this.modrm([0x80], aluExt[op], dst, 8, dst.kind === 'reg' ? [dst] : []);
        this.imm(src, 1);
      } else if (fitsI8(src)) {
        this.modrm([0x83], aluExt[op], dst, dst.w);
        this.imm(src, 1);
      } else {
        this.modrm([0x81], aluExt[op], dst, dst.w);
        this.imm(src, dst.w === 16 ? 2 : 4);
      }
    } else {
      this.modrm([(aluExt[op] << 3) | (src.w === 8 ? 0 : 1)], src.n, dst, src.w, [src]);
    }
    return this;
  }
  add(d: Reg | Mem, s: Reg | number) {
    return this.alu('add', d, s);
  }
  sub(d: Reg | Mem, s: Reg | number) {
    return this.alu('sub', d, s);
  }
  and(d: Reg | Mem, s: Reg | number) {
    return this.alu('and', d, s);
  }
  or(d: Reg | Mem, s: Reg | number) {
    return this.alu('or', d, s);
  }
  xor(d: Reg | Mem, s: Reg | number) {
    return this.alu('xor', d, s);
  }
  cmp(d: Reg | Mem, s: Reg | number) {
    return this.alu('cmp', d, s);
  }
  /** test reg, imm32 */
  test(dst: Reg, v: number): this {
    checkImm(v, dst.w);
    this.modrm([dst.w === 8 ? 0xf6 : 0xf7], 0, dst, dst.w, [dst]);
    this.imm(v, dst.w === 8 ? 1 : dst.w === 16 ? 2 : 4);
    return this;
  }
  private shift(ext: number, dst: Reg, n: number): this {
    if (!Number.isInteger(n) || n < 0 || n >= dst.w) throw new Error(`shift count ${n} out of range for ${dst.name}`);
    this.modrm([dst.w === 8 ? 0xc0 : 0xc1], ext, dst, dst.w);
    this.imm(n, 1);
    return this;
  }
  shl(dst: Reg, n: number): this {
    return this.shift(4, dst, n);
  }
  shr(dst: Reg, n: number): this {
    return this.shift(5, dst, n);
  }
  inc(dst: Reg | Mem): this {
    this.modrm([dst.w === 8 ? 0xfe : 0xff], 0, dst, dst.w);
    return this;
  }
  dec(dst: Reg | Mem): this {
    this.modrm([dst.w === 8 ? 0xfe : 0xff], 1, dst, dst.w);
    return this;
  }
  /** lock xadd [mem], reg — atomic fetch-and-add (the guest's barrier). */
  lockXadd(dst: Mem, src: Reg): this {
    checkDisp(dst);
    this.emit(0xf0);
    this.modrm([0x0f, src.w === 8 ? 0xc0 : 0xc1], src.n, dst, src.w, [src]);
    return this;
  }
  push(x: Reg): this {
    if (x.w !== 64) throw new Error(`push needs a 64-bit register, got ${x.name}`);
    if (x.n & 8) this.emit(0x41);
    this.emit(0x50 + (x.n & 7));
    return this;
  }
  pop(x: Reg): this {
    if (x.w !== 64) throw new Error(`pop needs a 64-bit register, got ${x.name}`);
    if (x.n & 8) this.emit(0x41);
    this.emit(0x58 + (x.n & 7));
    return this;
  }
  private rel32(opcode: number[], l: Label): this {
    this.emit(...opcode);
    this.fixups.push({ at: this.pos, label: l });
    this.imm(0, 4);
    return this;
  }
  jmp(l: Label): this {
    return this.rel32([0xe9], l);
  }
  j(c: Cond, l: Label): this {
    return this.rel32([0x0f, 0x80 | condCode[c]], l);
  }
  call(l: Label): this {
    return this.rel32([0xe8], l);
  }
  ret(): this {
    this.emit(0xc3);
    return this;
  }
  rdtsc(): this {
    this.emit(0x0f, 0x31);
    return this;
  }
  /** lfence: keeps rdtsc from running ahead of earlier loads. */
  lfence(): this {
    this.emit(0x0f, 0xae, 0xe8);
    return this;
  }
  pause(): this {
    this.emit(0xf3, 0x90);
    return this;
  }
  /** in al/ax/eax, dx */
  inDx(w: 8 | 16 | 32): this {
    if (w === 16) this.emit(0x66);
    this.emit(w === 8 ? 0xec : 0xed);
    return this;
  }
  /** out dx, al/ax/eax */
  outDx(w: 8 | 16 | 32): this {
    if (w === 16) this.emit(0x66);
    this.emit(w === 8 ? 0xee : 0xef);
    return this;
  }
  /** Raw bytes (data). */
  bytesRaw(b: number[]): this {
    this.emit(...b);
    return this;
  }

  /** Resolves labels and returns the machine code. */
  assemble(): Uint8Array {
    const out = Uint8Array.from(this.bytes);
    const dv = new DataView(out.buffer);
    for (const f of this.fixups) {
      if (f.label.pos < 0) throw new Error(`label ${f.label.name} is used but never bound`);
      dv.setInt32(f.at, f.label.pos - (f.at + 4), true);
    }
    return out;
  }
}
