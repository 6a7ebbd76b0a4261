/** A problem with what the user gave us (flag, file, id): one line, exit status 2, no stack. */
export class UsageError extends Error {
  readonly exitCode = 2;
}

/** The host cannot do what was asked (no /dev/kvm, permissions, API version): one line with the fix, exit 2. */
export class HostError extends Error {
  readonly exitCode = 2;
}
