// The MC146818 CMOS RTC at ports 0x70/0x71 as a stopped clock: a fixed date, the update-in-progress
// bit clear. Linux's mc146818_get_time (drivers/rtc/rtc-mc146818-lib.c) polls register A until UIP
// reads 0; answered all-ones, it polls until its timeout (~40 000 port exits on a conf1 boot).
const INDEX = 0x70;
const DATA = 0x71;
/** Seconds, minutes, hours, weekday, day, month, year (BCD, 24 h): 2026-01-01 00:00:00. */
const TIME: Record<number, number> = { 0: 0x00, 2: 0x00, 4: 0x00, 6: 0x05, 7: 0x01, 8: 0x01, 9: 0x26 };
const REG_A = 0x0a;
const REG_B = 0x0b;
const REG_D = 0x0d;
const CENTURY = 0x32;

export class CmosRtc {
  private index = 0;

  owns(port: number): boolean {
    return port === INDEX || port === DATA;
  }

  read(port: number): number {
    if (port === INDEX) return 0xff; // write-only on real hardware
    const r = this.index;
    if (r in TIME) return TIME[r];
    if (r === REG_A) return 0x26; // 32.768 kHz divider, 1024 Hz rate, UIP clear
    if (r === REG_B) return 0x02; // 24-hour mode, BCD, no interrupts
    if (r === REG_D) return 0x80; // valid RAM and time
    if (r === CENTURY) return 0x20;
    return 0;
  }

  write(port: number, value: number): void {
    if (port === INDEX) this.index = value & 0x7f; // bit 7 masks NMIs
  }
}
