// The 8250 UART at COM1 as far as Linux's earlyprintk needs it (arch/x86/boot/early_serial_console.c,
// arch/x86/kernel/early_printk.c early_serial_putc): divisor latch and line control are stored,
// the line status always says "transmitter empty", and every THR byte goes to the console text.
export const COM1 = 0x3f8;
const THR = 0;
const LCR = 3;
const LSR = 5;
const LCR_DLAB = 0x80;
/** THRE | TEMT: ready for the next byte at once. */
const LSR_IDLE = 0x60;

export class SerialConsole {
  private readonly regs = new Uint8Array(8);
  private line = '';
  /** Complete lines so far (kept to `keepLines`; the rest are counted). */
  readonly lines: string[] = [];
  bytes = 0;

  constructor(
    /** Called with each complete line (no newline). */
    private readonly onLine: (line: string) => void = () => {},
    private readonly keepLines = 4000,
  ) {}

  owns(port: number): boolean {
    return port >= COM1 && port < COM1 + 8;
  }

  read(port: number): number {
    const r = port - COM1;
    if (r === LSR) return LSR_IDLE;
    if (r === THR && !(this.regs[LCR] & LCR_DLAB)) return 0; // receive buffer: nothing typed
    return this.regs[r];
  }

  write(port: number, value: number): void {
    const r = port - COM1;
    if (r === THR && !(this.regs[LCR] & LCR_DLAB)) return this.put(value & 0xff);
    this.regs[r] = value;
  }

  private put(c: number): void {
    this.bytes++;
    if (c === 0x0a) {
      if (this.lines.length < this.keepLines) this.lines.push(this.line);
      const l = this.line;
      this.line = '';
      this.onLine(l);
    } else if (c !== 0x0d) this.line += String.fromCharCode(c);
  }
}
