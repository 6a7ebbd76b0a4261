// Checks every instruction form of runner/guest/x86.ts against an independent disassembler:
// GNU objdump (binutils). Each case is assembled, written to a temp file, disassembled with
//   objdump -D -b binary -mi386:x86-64 -M intel --insn-width=16 FILE
// and compared instruction by instruction (mnemonic + operands, whitespace normalized).
// objdump also has to consume exactly the bytes we emitted, so a wrong length, a stray or
// missing prefix ("rex", "data16") or an undecodable byte sequence ("(bad)") fails the case.
// If objdump is not installed the encoding tests are skipped (apt-get install -y binutils).
import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Asm, mem, r, type Cond, type Label } from '../runner/guest/x86.js';

interface Case {
  /** Subtest name; defaults to the expected text. */
  name?: string;
  build: (a: Asm) => void;
  /** objdump's text for each instruction, in order (Intel syntax). */
  expect: string | string[];
  /** Asm origin; objdump is told the same load address (--adjust-vma). */
  origin?: number;
  /** Expected total length in bytes, where the short/long form matters. */
  len?: number;
}

const SKIP_MSG = 'objdump (GNU binutils) not found: install it (apt-get install -y binutils) to check x86 encodings';
const probe = spawnSync('objdump', ['--version'], { encoding: 'utf8' });
const haveObjdump = probe.status === 0 && /GNU objdump/.test(probe.stdout);

let tmp: string | undefined;
let fileNo = 0;
after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const norm = (s: string) => s.replace(/\s+/g, ' ').trim();
const hex = (b: ArrayLike<number>) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

interface Insn {
  addr: number;
  bytes: number[];
  text: string;
}

function disassemble(code: Uint8Array, vma: number): Insn[] {
  tmp ??= mkdtempSync(join(tmpdir(), 'x86-test-'));
  const file = join(tmp, `case${fileNo++}.bin`);
  writeFileSync(file, code);
  const args = ['-D', '-b', 'binary', '-mi386:x86-64', '-M', 'intel', '--insn-width=16'];
  if (vma) args.push(`--adjust-vma=0x${vma.toString(16)}`);
  const res = spawnSync('objdump', [...args, file], { encoding: 'utf8' });
  assert.equal(res.status, 0, `objdump failed: ${res.stderr}`);
  const out: Insn[] = [];
  for (const line of res.stdout.split('\n')) {
    // "   1f:\t40 88 c6                 \tmov    sil,al"; a continuation line has bytes only.
    const m = /^\s*([0-9a-f]+):\t((?:[0-9a-f]{2} ?)+)\s*(?:\t(.*))?$/.exec(line);
    if (!m) continue;
    const bytes = m[2].trim().split(' ').map((h) => parseInt(h, 16));
    if (m[3] === undefined) {
      assert.ok(out.length > 0, `unexpected objdump line: ${line}`);
      out[out.length - 1].bytes.push(...bytes);
    } else {
      out.push({ addr: parseInt(m[1], 16), bytes, text: norm(m[3]) });
    }
  }
  return out;
}

function check(c: Case): void {
  const origin = c.origin ?? 0;
  const a = new Asm(origin);
  c.build(a);
  const code = a.assemble();
  const insns = disassemble(code, origin);
  const ctx = `bytes: ${hex(code)}\nobjdump:\n${insns.map((i) => `  ${i.addr.toString(16)}: ${hex(i.bytes).padEnd(32)} ${i.text}`).join('\n')}`;
  const want = [c.expect].flat().map(norm);
  assert.deepEqual(
    insns.map((i) => i.text),
    want,
    ctx,
  );
  // objdump decoded exactly our bytes, back to back.
  let at = origin;
  for (const i of insns) {
    assert.equal(i.addr, at, ctx);
    at += i.bytes.length;
  }
  assert.deepEqual(insns.flatMap((i) => i.bytes), Array.from(code), ctx);
  if (c.len !== undefined) assert.equal(code.length, c.len, `length\n${ctx}`);
}

const k = (build: (a: Asm) => void, expect: string | string[], extra: Partial<Case> = {}): Case => ({ build, expect, ...extra });

const groups: [string, Case[]][] = [];
const group = (name: string, cases: Case[]) => groups.push([name, cases]);

// ---------------------------------------------------------------- movImm
group('movImm', [
  k((a) => a.movImm(r.eax, 1), 'mov eax,0x1', { len: 5 }),
  k((a) => a.movImm(r.eax, 0), 'mov eax,0x0'),
  k((a) => a.movImm(r.r12d, 0x80000000), 'mov r12d,0x80000000', { len: 6 }),
  k((a) => a.movImm(r.edi, 0xffffffff), 'mov edi,0xffffffff'),
  k((a) => a.movImm(r.eax, -1), 'mov eax,0xffffffff', { len: 5 }),
  k((a) => a.movImm(r.r15d, -0x80000000), 'mov r15d,0x80000000'),
  // 64-bit registers: values 0..0xffffffff use the zero-extending 32-bit form.
  k((a) => a.movImm(r.rax, 1), 'mov eax,0x1', { len: 5 }),
  k((a) => a.movImm(r.rsp, 0x1000), 'mov esp,0x1000'),
  k((a) => a.movImm(r.r9, 0x12345678), 'mov r9d,0x12345678', { len: 6 }),
  k((a) => a.movImm(r.rbx, 0xffffffff), 'mov ebx,0xffffffff', { len: 5 }),
  k((a) => a.movImm(r.rcx, 0x100000000), 'movabs rcx,0x100000000', { len: 10 }),
  k((a) => a.movImm(r.r15, 0x123456789abcdef0n), 'movabs r15,0x123456789abcdef0', { len: 10 }),
  k((a) => a.movImm(r.r8, 0xffffffffffffffffn), 'movabs r8,0xffffffffffffffff'),
  k((a) => a.movImm(r.rdx, -1), 'movabs rdx,0xffffffffffffffff', { len: 10 }),
  k((a) => a.movImm(r.rdi, -2n), 'movabs rdi,0xfffffffffffffffe'),
  k((a) => a.movImm(r.r13, -0x8000000000000000n), 'movabs r13,0x8000000000000000'),
  k((a) => a.movImm(r.rsi, 2 ** 53), 'movabs rsi,0x20000000000000'),
]);

// ---------------------------------------------------------------- mov reg, reg
group('mov reg/reg', [
  k((a) => a.mov(r.rax, r.rbx), 'mov rax,rbx'),
  k((a) => a.mov(r.rsp, r.rbp), 'mov rsp,rbp'),
  k((a) => a.mov(r.r8, r.rax), 'mov r8,rax'),
  k((a) => a.mov(r.rax, r.r15), 'mov rax,r15'),
  k((a) => a.mov(r.r9, r.r10), 'mov r9,r10'),
  k((a) => a.mov(r.eax, r.ecx), 'mov eax,ecx', { len: 2 }),
  k((a) => a.mov(r.r8d, r.esi), 'mov r8d,esi'),
  k((a) => a.mov(r.edi, r.r13d), 'mov edi,r13d'),
  k((a) => a.mov(r.r14d, r.r12d), 'mov r14d,r12d'),
  k((a) => a.mov(r.ax, r.bx), 'mov ax,bx'),
  k((a) => a.mov(r.r10w, r.dx), 'mov r10w,dx'),
  k((a) => a.mov(r.si, r.r15w), 'mov si,r15w'),
  k((a) => a.mov(r.al, r.bl), 'mov al,bl', { len: 2 }),
  k((a) => a.mov(r.sil, r.al), 'mov sil,al'),
  k((a) => a.mov(r.al, r.dil), 'mov al,dil'),
  k((a) => a.mov(r.spl, r.bpl), 'mov spl,bpl'),
  k((a) => a.mov(r.dil, r.cl), 'mov dil,cl'),
  k((a) => a.mov(r.r8b, r.cl), 'mov r8b,cl'),
  k((a) => a.mov(r.al, r.r15b), 'mov al,r15b'),
  k((a) => a.mov(r.sil, r.r9b), 'mov sil,r9b'),
  k((a) => a.mov(r.r12b, r.bpl), 'mov r12b,bpl'),
]);

// ---------------------------------------------------------------- loads and stores
group('mov loads/stores', [
  // disp 0, disp8 (both signs, both edges), disp32
  k((a) => a.mov(r.rax, mem(r.rbx)), 'mov rax,QWORD PTR [rbx]', { len: 3 }),
  k((a) => a.mov(r.eax, mem(r.r15, 0x10, 32)), 'mov eax,DWORD PTR [r15+0x10]'),
  k((a) => a.mov(r.rcx, mem(r.rdx, -8)), 'mov rcx,QWORD PTR [rdx-0x8]', { len: 4 }),
  k((a) => a.mov(r.rcx, mem(r.rdx, 127)), 'mov rcx,QWORD PTR [rdx+0x7f]', { len: 4 }),
  k((a) => a.mov(r.rcx, mem(r.rdx, 128)), 'mov rcx,QWORD PTR [rdx+0x80]', { len: 7 }),
  k((a) => a.mov(r.rcx, mem(r.rdx, -128)), 'mov rcx,QWORD PTR [rdx-0x80]', { len: 4 }),
  k((a) => a.mov(r.rcx, mem(r.rdx, -129)), 'mov rcx,QWORD PTR [rdx-0x81]', { len: 7 }),
  k((a) => a.mov(r.r11, mem(r.rsi, 0x12345678)), 'mov r11,QWORD PTR [rsi+0x12345678]'),
  k((a) => a.mov(r.rax, mem(r.rdi, 0x7fffffff)), 'mov rax,QWORD PTR [rdi+0x7fffffff]'),
  k((a) => a.mov(r.rax, mem(r.rdi, -0x80000000)), 'mov rax,QWORD PTR [rdi-0x80000000]'),
  // rsp / r12 as base need a SIB byte
  k((a) => a.mov(r.rax, mem(r.rsp)), 'mov rax,QWORD PTR [rsp]', { len: 4 }),
  k((a) => a.mov(r.rax, mem(r.rsp, 8)), 'mov rax,QWORD PTR [rsp+0x8]', { len: 5 }),
  k((a) => a.mov(r.r9d, mem(r.rsp, 0x1000, 32)), 'mov r9d,DWORD PTR [rsp+0x1000]'),
  k((a) => a.mov(r.rdx, mem(r.r12)), 'mov rdx,QWORD PTR [r12]', { len: 4 }),
  k((a) => a.mov(r.edx, mem(r.r12, -0x20, 32)), 'mov edx,DWORD PTR [r12-0x20]'),
  k((a) => a.mov(r.r12, mem(r.r12, 0x200)), 'mov r12,QWORD PTR [r12+0x200]'),
  // rbp / r13 as base: mod 00 would mean rip-relative, so disp 0 is encoded as disp8
  k((a) => a.mov(r.rax, mem(r.rbp)), 'mov rax,QWORD PTR [rbp+0x0]', { len: 4 }),
  k((a) => a.mov(r.rax, mem(r.rbp, -0x10)), 'mov rax,QWORD PTR [rbp-0x10]'),
  k((a) => a.mov(r.ecx, mem(r.r13, 0, 32)), 'mov ecx,DWORD PTR [r13+0x0]', { len: 4 }),
  k((a) => a.mov(r.ecx, mem(r.r13, 0x100, 32)), 'mov ecx,DWORD PTR [r13+0x100]'),
  // other loads
  k((a) => a.mov(r.r8, mem(r.r8)), 'mov r8,QWORD PTR [r8]'),
  k((a) => a.mov(r.r14w, mem(r.r13, 0, 16)), 'mov r14w,WORD PTR [r13+0x0]'),
  k((a) => a.mov(r.ax, mem(r.rsi, 2, 16)), 'mov ax,WORD PTR [rsi+0x2]'),
  k((a) => a.mov(r.al, mem(r.rsi, 1, 8)), 'mov al,BYTE PTR [rsi+0x1]'),
  k((a) => a.mov(r.dil, mem(r.rsi, 1, 8)), 'mov dil,BYTE PTR [rsi+0x1]'),
  k((a) => a.mov(r.r11b, mem(r.r12, 0, 8)), 'mov r11b,BYTE PTR [r12]'),
  // stores
  k((a) => a.mov(mem(r.rdi, 8), r.rax), 'mov QWORD PTR [rdi+0x8],rax'),
  k((a) => a.mov(mem(r.rsp), r.r15), 'mov QWORD PTR [rsp],r15'),
  k((a) => a.mov(mem(r.rbp, 0x80), r.rbx), 'mov QWORD PTR [rbp+0x80],rbx'),
  k((a) => a.mov(mem(r.r8, 0, 32), r.r9d), 'mov DWORD PTR [r8],r9d'),
  k((a) => a.mov(mem(r.r13, -4, 32), r.eax), 'mov DWORD PTR [r13-0x4],eax'),
  k((a) => a.mov(mem(r.rax, 2, 16), r.cx), 'mov WORD PTR [rax+0x2],cx'),
  k((a) => a.mov(mem(r.r12, 0, 16), r.r10w), 'mov WORD PTR [r12],r10w'),
  k((a) => a.mov(mem(r.rax, 0, 8), r.sil), 'mov BYTE PTR [rax],sil'),
  k((a) => a.mov(mem(r.rbx, 0, 8), r.al), 'mov BYTE PTR [rbx],al', { len: 2 }),
  k((a) => a.mov(mem(r.r15, 0x1234, 8), r.r8b), 'mov BYTE PTR [r15+0x1234],r8b'),
]);

// ---------------------------------------------------------------- movzx
group('movzx', [
  k((a) => a.movzx(r.eax, mem(r.rsi, 0, 8)), 'movzx eax,BYTE PTR [rsi]'),
  k((a) => a.movzx(r.eax, mem(r.rsi, 4, 16)), 'movzx eax,WORD PTR [rsi+0x4]'),
  k((a) => a.movzx(r.r10d, mem(r.r12, 0x100, 8)), 'movzx r10d,BYTE PTR [r12+0x100]'),
  k((a) => a.movzx(r.ecx, mem(r.r13, 0, 16)), 'movzx ecx,WORD PTR [r13+0x0]'),
  k((a) => a.movzx(r.edx, mem(r.rbp, -1, 8)), 'movzx edx,BYTE PTR [rbp-0x1]'),
  k((a) => a.movzx(r.r15d, mem(r.rsp, 8, 16)), 'movzx r15d,WORD PTR [rsp+0x8]'),
  k((a) => a.movzx(r.rax, mem(r.rdi, 0, 8)), 'movzx rax,BYTE PTR [rdi]'),
  k((a) => a.movzx(r.eax, r.al), 'movzx eax,al', { len: 3 }),
  k((a) => a.movzx(r.eax, r.sil), 'movzx eax,sil'),
  k((a) => a.movzx(r.r8d, r.dil), 'movzx r8d,dil'),
  k((a) => a.movzx(r.ecx, r.r9b), 'movzx ecx,r9b'),
  k((a) => a.movzx(r.eax, r.dx), 'movzx eax,dx'),
  k((a) => a.movzx(r.r15d, r.r14w), 'movzx r15d,r14w'),
  k((a) => a.movzx(r.rax, r.bl), 'movzx rax,bl'),
  k((a) => a.movzx(r.ax, r.bl), 'movzx ax,bl'),
]);

// ---------------------------------------------------------------- alu
const aluOps = ['add', 'or', 'and', 'sub', 'xor', 'cmp'] as const;
for (const op of aluOps) {
  group(`alu ${op}`, [
    // reg, reg
    k((a) => a[op](r.rax, r.rbx), `${op} rax,rbx`),
    k((a) => a[op](r.r9, r.r14), `${op} r9,r14`),
    k((a) => a[op](r.rsp, r.r8), `${op} rsp,r8`),
    k((a) => a[op](r.ecx, r.r8d), `${op} ecx,r8d`),
    k((a) => a[op](r.eax, r.edx), `${op} eax,edx`, { len: 2 }),
    k((a) => a[op](r.dx, r.r11w), `${op} dx,r11w`),
    k((a) => a[op](r.al, r.cl), `${op} al,cl`, { len: 2 }),
    k((a) => a[op](r.sil, r.al), `${op} sil,al`),
    k((a) => a[op](r.r12b, r.dil), `${op} r12b,dil`),
    // reg, imm8 (sign-extended)
    k((a) => a[op](r.rax, 5), `${op} rax,0x5`, { len: 4 }),
    k((a) => a[op](r.r10, -1), `${op} r10,0xffffffffffffffff`, { len: 4 }),
    k((a) => a[op](r.eax, 127), `${op} eax,0x7f`, { len: 3 }),
    k((a) => a[op](r.eax, -128), `${op} eax,0xffffff80`, { len: 3 }),
    k((a) => a[op](r.r11d, 1), `${op} r11d,0x1`),
    k((a) => a[op](r.ax, 1), `${op} ax,0x1`, { len: 4 }),
    k((a) => a[op](r.r9w, -2), `${op} r9w,0xfffe`),
    // reg, imm32
    k((a) => a[op](r.eax, 128), `${op} eax,0x80`, { len: 6 }),
    k((a) => a[op](r.eax, -129), `${op} eax,0xffffff7f`, { len: 6 }),
    k((a) => a[op](r.rdx, 0x1000), `${op} rdx,0x1000`, { len: 7 }),
    k((a) => a[op](r.rcx, -0x1000), `${op} rcx,0xfffffffffffff000`),
    k((a) => a[op](r.r8, 0x7fffffff), `${op} r8,0x7fffffff`),
    k((a) => a[op](r.r13d, 0x12345678), `${op} r13d,0x12345678`),
    k((a) => a[op](r.esi, 0xffffffff), `${op} esi,0xffffffff`),
    k((a) => a[op](r.r9w, 0x1234), `${op} r9w,0x1234`, { len: 6 }),
    k((a) => a[op](r.bx, 0xffff), `${op} bx,0xffff`),
    // 8-bit reg, imm8
    k((a) => a[op](r.al, 0x7f), `${op} al,0x7f`, { len: 3 }),
    k((a) => a[op](r.bl, 0x80), `${op} bl,0x80`),
    k((a) => a[op](r.sil, 0xff), `${op} sil,0xff`),
    k((a) => a[op](r.r15b, -1), `${op} r15b,0xff`),
    // mem, imm
    k((a) => a[op](mem(r.rbx, 8), 1), `${op} QWORD PTR [rbx+0x8],0x1`),
    k((a) => a[op](mem(r.rsp), -1), `${op} QWORD PTR [rsp],0xffffffffffffffff`),
    k((a) => a[op](mem(r.rdi, 0x100), 0x1000), `${op} QWORD PTR [rdi+0x100],0x1000`),
    k((a) => a[op](mem(r.r12, 0, 32), 0x12345), `${op} DWORD PTR [r12],0x12345`),
    k((a) => a[op](mem(r.rax, 0, 32), 2), `${op} DWORD PTR [rax],0x2`),
    k((a) => a[op](mem(r.rbp, 0, 16), 0x100), `${op} WORD PTR [rbp+0x0],0x100`),
    k((a) => a[op](mem(r.r8, 2, 16), 3), `${op} WORD PTR [r8+0x2],0x3`),
    k((a) => a[op](mem(r.r13, -4, 8), 0x80), `${op} BYTE PTR [r13-0x4],0x80`),
    k((a) => a[op](mem(r.rcx, 0, 8), 1), `${op} BYTE PTR [rcx],0x1`),
    // mem, reg
    k((a) => a[op](mem(r.rdi), r.rax), `${op} QWORD PTR [rdi],rax`),
    k((a) => a[op](mem(r.rsp, 4, 32), r.r8d), `${op} DWORD PTR [rsp+0x4],r8d`),
    k((a) => a[op](mem(r.r13, 0, 16), r.cx), `${op} WORD PTR [r13+0x0],cx`),
    k((a) => a[op](mem(r.rax, 0, 8), r.sil), `${op} BYTE PTR [rax],sil`),
    k((a) => a[op](mem(r.r9, 1, 8), r.r10b), `${op} BYTE PTR [r9+0x1],r10b`),
  ]);
}
group('alu (generic entry point)', [
  k((a) => a.alu('xor', r.eax, r.eax), 'xor eax,eax'),
  k((a) => a.alu('cmp', mem(r.rsi, 0, 32), 0), 'cmp DWORD PTR [rsi],0x0'),
]);

// ---------------------------------------------------------------- test, shifts, inc/dec
group('test', [
  k((a) => a.test(r.eax, 1), 'test eax,0x1', { len: 6 }),
  k((a) => a.test(r.rax, 0x80), 'test rax,0x80', { len: 7 }),
  k((a) => a.test(r.r9, -1), 'test r9,0xffffffffffffffff'),
  k((a) => a.test(r.r12d, 0x12345678), 'test r12d,0x12345678'),
  k((a) => a.test(r.ecx, 0x80000000), 'test ecx,0x80000000'),
  k((a) => a.test(r.cx, 0x8000), 'test cx,0x8000', { len: 5 }),
  k((a) => a.test(r.r8w, 1), 'test r8w,0x1'),
  k((a) => a.test(r.al, 0x80), 'test al,0x80', { len: 3 }),
  k((a) => a.test(r.sil, 1), 'test sil,0x1'),
  k((a) => a.test(r.r14b, 0xff), 'test r14b,0xff'),
]);
group('shl/shr', [
  k((a) => a.shl(r.rax, 4), 'shl rax,0x4'),
  k((a) => a.shl(r.r8, 63), 'shl r8,0x3f'),
  k((a) => a.shr(r.r11d, 31), 'shr r11d,0x1f'),
  k((a) => a.shr(r.edx, 1), 'shr edx,0x1'),
  k((a) => a.shl(r.ax, 1), 'shl ax,0x1'),
  k((a) => a.shr(r.r12w, 8), 'shr r12w,0x8'),
  k((a) => a.shl(r.al, 2), 'shl al,0x2'),
  k((a) => a.shr(r.sil, 1), 'shr sil,0x1'),
  k((a) => a.shr(r.r9b, 7), 'shr r9b,0x7'),
]);
group('inc/dec', [
  k((a) => a.inc(r.rax), 'inc rax'),
  k((a) => a.dec(r.r15), 'dec r15'),
  k((a) => a.inc(r.ecx), 'inc ecx', { len: 2 }),
  k((a) => a.dec(r.r15d), 'dec r15d'),
  k((a) => a.inc(r.cx), 'inc cx'),
  k((a) => a.dec(r.r10w), 'dec r10w'),
  k((a) => a.inc(r.al), 'inc al'),
  k((a) => a.dec(r.dil), 'dec dil'),
  k((a) => a.inc(r.r8b), 'inc r8b'),
  k((a) => a.inc(mem(r.rbx)), 'inc QWORD PTR [rbx]'),
  k((a) => a.dec(mem(r.rsp, 0x40)), 'dec QWORD PTR [rsp+0x40]'),
  k((a) => a.dec(mem(r.r12, 8, 32)), 'dec DWORD PTR [r12+0x8]'),
  k((a) => a.inc(mem(r.rbp, 0, 16)), 'inc WORD PTR [rbp+0x0]'),
  k((a) => a.dec(mem(r.r13, 1, 8)), 'dec BYTE PTR [r13+0x1]'),
  k((a) => a.inc(mem(r.rax, 0x1000, 8)), 'inc BYTE PTR [rax+0x1000]'),
]);
group('lock xadd', [
  k((a) => a.lockXadd(mem(r.rdi, 0, 32), r.eax), 'lock xadd DWORD PTR [rdi],eax', { len: 4 }),
  k((a) => a.lockXadd(mem(r.r12, 8), r.r9), 'lock xadd QWORD PTR [r12+0x8],r9'),
  k((a) => a.lockXadd(mem(r.rsp), r.rax), 'lock xadd QWORD PTR [rsp],rax'),
  k((a) => a.lockXadd(mem(r.r13, 0, 32), r.r8d), 'lock xadd DWORD PTR [r13+0x0],r8d'),
  k((a) => a.lockXadd(mem(r.rbp, 0x100, 16), r.cx), 'lock xadd WORD PTR [rbp+0x100],cx'),
  k((a) => a.lockXadd(mem(r.rax, 0, 8), r.sil), 'lock xadd BYTE PTR [rax],sil'),
  k((a) => a.lockXadd(mem(r.rbx, 0, 8), r.cl), 'lock xadd BYTE PTR [rbx],cl'),
]);

// ---------------------------------------------------------------- push/pop
const regs64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
group('push/pop', [
  ...regs64.map((n, i) => k((a) => a.push(r[n]), `push ${n}`, { len: i < 8 ? 1 : 2 })),
  ...regs64.map((n, i) => k((a) => a.pop(r[n]), `pop ${n}`, { len: i < 8 ? 1 : 2 })),
]);

// ---------------------------------------------------------------- control flow
const conds: Cond[] = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'l', 'ge', 'le', 'g'];
group('jmp/jcc/call', [
  {
    name: 'backward: jne/jmp/call to an earlier label',
    build: (a) => {
      const top = a.label('top');
      a.bind(top); // 0x0
      a.inc(r.eax); // 0x0, 2 bytes
      a.j('ne', top); // 0x2, 6 bytes
      a.jmp(top); // 0x8, 5 bytes
      a.call(top); // 0xd, 5 bytes
      a.ret(); // 0x12
    },
    expect: ['inc eax', 'jne 0x0', 'jmp 0x0', 'call 0x0', 'ret'],
    len: 0x13,
  },
  {
    name: 'forward: jmp/je/call to a later label',
    build: (a) => {
      const fwd = a.label('fwd');
      a.jmp(fwd); // 0x0
      a.j('e', fwd); // 0x5
      a.call(fwd); // 0xb
      a.ret(); // 0x10
      a.bind(fwd); // 0x11
      a.ret();
    },
    expect: ['jmp 0x11', 'je 0x11', 'call 0x11', 'ret', 'ret'],
  },
  {
    name: 'labels mixed: loop with forward exit',
    build: (a) => {
      const loop = a.label();
      const done = a.label();
      a.movImm(r.ecx, 10); // 0x0, 5
      a.bind(loop); // 0x5
      a.dec(r.ecx); // 0x5, 2
      a.j('e', done); // 0x7, 6
      a.jmp(loop); // 0xd, 5
      a.bind(done); // 0x12
      a.ret();
    },
    expect: ['mov ecx,0xa', 'dec ecx', 'je 0x12', 'jmp 0x5', 'ret'],
  },
  {
    name: 'rel32 beyond the rel8 range, both directions',
    build: (a) => {
      const far = a.label();
      const back = a.label();
      a.bind(back); // 0x0
      a.jmp(far); // 0x0, 5
      for (let i = 0; i < 100; i++) a.pause(); // 0x5 .. 0xcd
      a.bind(far); // 0xcd
      a.j('b', back); // 0xcd
      a.call(back); // 0xd3
    },
    expect: ['jmp 0xcd', ...Array<string>(100).fill('pause'), 'jb 0x0', 'call 0x0'],
  },
  {
    name: 'origin: addresses are relative to the load address',
    origin: 0x7000,
    build: (a) => {
      const l = a.label();
      a.jmp(l); // 0x7000
      a.call(l); // 0x7005
      a.bind(l); // 0x700a
      a.ret();
      assert.equal(a.addressOf(l), 0x700a);
    },
    expect: ['jmp 0x700a', 'call 0x700a', 'ret'],
  },
  ...conds.map(
    (c): Case => ({
      name: `j${c} to itself`,
      build: (a) => {
        a.ret();
        const l = a.label();
        a.bind(l);
        a.j(c, l);
      },
      expect: ['ret', `j${c} 0x1`],
      len: 7,
    }),
  ),
  ...conds.map(
    (c): Case => ({
      name: `j${c} forward`,
      build: (a) => {
        const l = a.label();
        a.j(c, l);
        a.ret();
        a.bind(l);
        a.ret();
      },
      expect: [`j${c} 0x7`, 'ret', 'ret'],
    }),
  ),
]);

// ---------------------------------------------------------------- misc
group('misc', [
  k((a) => a.ret(), 'ret', { len: 1 }),
  k((a) => a.rdtsc(), 'rdtsc', { len: 2 }),
  k((a) => a.lfence(), 'lfence', { len: 3 }),
  k((a) => a.pause(), 'pause', { len: 2 }),
  k((a) => a.inDx(8), 'in al,dx', { len: 1 }),
  k((a) => a.inDx(16), 'in ax,dx', { len: 2 }),
  k((a) => a.inDx(32), 'in eax,dx', { len: 1 }),
  k((a) => a.outDx(8), 'out dx,al', { len: 1 }),
  k((a) => a.outDx(16), 'out dx,ax', { len: 2 }),
  k((a) => a.outDx(32), 'out dx,eax', { len: 1 }),
  k((a) => a.bytesRaw([0x90, 0xcc]), ['nop', 'int3']),
  {
    name: 'a scan-loop-like sequence decodes back to back',
    build: (a) => {
      const loop = a.label();
      a.push(r.rbx).push(r.r12);
      a.movImm(r.r12, 0xfee00000);
      a.movImm(r.rbx, 0x1_0000_0000);
      a.lfence().rdtsc().shl(r.rdx, 32).or(r.rax, r.rdx).mov(r.r8, r.rax);
      a.bind(loop);
      a.mov(r.eax, mem(r.r12, 0x20, 32));
      a.add(r.r12, 0x1000);
      a.cmp(r.r12, r.rbx);
      a.j('b', loop);
      a.lockXadd(mem(r.rsp, 8), r.rax);
      a.pop(r.r12).pop(r.rbx).ret();
    },
    expect: [
      'push rbx',
      'push r12',
      'mov r12d,0xfee00000',
      'movabs rbx,0x100000000',
      'lfence',
      'rdtsc',
      'shl rdx,0x20',
      'or rax,rdx',
      'mov r8,rax',
      'mov eax,DWORD PTR [r12+0x20]', // 0x22
      'add r12,0x1000',
      'cmp r12,rbx',
      'jb 0x22',
      'lock xadd QWORD PTR [rsp+0x8],rax',
      'pop r12',
      'pop rbx',
      'ret',
    ],
  },
]);

for (const [name, cases] of groups) {
  test(`x86 encodings vs objdump: ${name}`, async (t: TestContext) => {
    if (!haveObjdump) {
      t.skip(SKIP_MSG);
      return;
    }
    for (const c of cases) {
      await t.test(c.name ?? [c.expect].flat().join('; '), () => check(c));
    }
  });
}

// ---------------------------------------------------------------- errors (no objdump needed)
test('x86 errors: label used but never bound', () => {
  const a = new Asm();
  const exit = a.label('exit');
  a.jmp(exit);
  assert.throws(() => a.assemble(), /label exit is used but never bound/);
  const b = new Asm();
  b.call(b.label());
  assert.throws(() => b.assemble(), /label L0 is used but never bound/);
});

test('x86 errors: addressOf an unbound label', () => {
  const a = new Asm(0x1000);
  const l: Label = a.label('x');
  assert.throws(() => a.addressOf(l), /label x is not bound/);
  a.ret();
  a.bind(l);
  assert.equal(a.addressOf(l), 0x1001);
});

test('x86 errors: label bound twice', () => {
  const a = new Asm();
  const l = a.label('twice');
  a.bind(l);
  a.ret();
  assert.throws(() => a.bind(l), /label twice bound twice/);
});

test('x86 errors: address base must be a 64-bit register', () => {
  for (const b of [r.eax, r.r8d, r.ax, r.r12w, r.al, r.sil]) {
    assert.throws(() => mem(b), /address base must be a 64-bit register/, b.name);
  }
  assert.doesNotThrow(() => mem(r.r15, 8, 32));
});

test('x86 errors: movImm to an 8- or 16-bit register', () => {
  for (const d of [r.al, r.sil, r.r8b, r.ax, r.r9w]) {
    assert.throws(() => new Asm().movImm(d, 1), /movImm needs a 32- or 64-bit register/, d.name);
  }
});

test('x86 errors: immediates and displacements out of range', () => {
  const a = new Asm();
  // a 64-bit ALU/test immediate is a sign-extended imm32
  assert.throws(() => a.add(r.rax, 0x80000000), /immediate/);
  assert.throws(() => a.and(r.rax, 0xffffffff), /immediate/);
  assert.throws(() => a.cmp(mem(r.rax), -0x80000001), /immediate/);
  assert.throws(() => a.test(r.rax, 0x80000000), /immediate/);
  assert.throws(() => a.add(r.eax, 0x100000000), /immediate/);
  assert.throws(() => a.add(r.ax, 0x10000), /immediate/);
  assert.throws(() => a.add(r.al, 0x100), /immediate/);
  assert.throws(() => a.add(r.al, -129), /immediate/);
  assert.throws(() => a.test(r.al, 0x100), /immediate/);
  assert.throws(() => a.movImm(r.eax, 0x100000000), /immediate/);
  assert.throws(() => a.movImm(r.eax, -0x80000001), /immediate/);
  assert.throws(() => a.movImm(r.rax, 0x10000000000000000n), /immediate/);
  assert.throws(() => a.movImm(r.rax, -0x8000000000000001n), /immediate/);
  assert.throws(() => a.mov(r.rax, mem(r.rbx, 0x80000000)), /displacement/);
  assert.throws(() => a.mov(r.rax, mem(r.rbx, -0x80000001)), /displacement/);
  assert.throws(() => a.lockXadd(mem(r.rbx, 0x80000000), r.rax), /displacement/);
  assert.throws(() => a.shl(r.rax, 64), /shift count/);
  assert.throws(() => a.shr(r.eax, 32), /shift count/);
  assert.throws(() => a.shl(r.al, 8), /shift count/);
  assert.throws(() => a.shr(r.ax, -1), /shift count/);
  // nothing was emitted by the failed calls
  assert.equal(a.pos, 0);
  assert.equal(a.assemble().length, 0);
});

test('x86 errors: operand forms the assembler does not have', () => {
  const a = new Asm();
  assert.throws(() => a.mov(mem(r.rax), mem(r.rbx)), /mov mem, mem/);
  assert.throws(() => a.movzx(r.eax, r.ecx), /movzx/);
  assert.throws(() => a.movzx(r.rax, mem(r.rsi, 0, 32)), /movzx/);
  assert.throws(() => a.push(r.eax), /push/);
  assert.throws(() => a.pop(r.r8d), /pop/);
  assert.equal(a.pos, 0);
});
