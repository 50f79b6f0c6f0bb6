import { ValidationError } from '../core/errors';

/**
 * Tar headers for regular files, in the POSIX ustar format with a PAX extended header
 * ahead of any path ustar cannot hold (over 100 bytes, or not printable ASCII) — the
 * format Go's archive/tar, and so Velero, writes and reads. tar-stream encodes headers
 * too, but only behind its stream API (its package exports no header encoder), and
 * TarParts needs the raw bytes to place gzip member boundaries between entries.
 */

export const TAR_BLOCK_SIZE = 512;
/** Two zero blocks end a tar archive. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * TAR_BLOCK_SIZE);

const USTAR_NAME_MAX = 100;
const TYPE_FILE = '0';
const TYPE_PAX = 'x';

export interface FileHeader {
  path: string;
  size: number;
  mode: number;
  mtime: Date;
}

/**
 * Refuses paths that would change meaning on extraction (absolute, `..`, empty
 * segments) or cannot be stored (NUL); Velero refuses such paths when it restores. A
 * backslash is an ordinary character of a name on Linux, where Velero writes and reads
 * it as it is (RBAC object names may hold one: they are only checked as path segments).
 */
export function assertEntryPath(path: string): void {
  fitsUstar(path);
}

/**
 * Checks `path` as assertEntryPath does and tells whether it fits a ustar block alone
 * (printable ASCII, at most 100 bytes). One pass over the characters: it runs for every
 * entry of a tarball of a whole cluster.
 */
export function fitsUstar(path: string): boolean {
  let printableAscii = true;
  let segmentStart = 0;
  for (let i = 0; i <= path.length; i++) {
    const code = i < path.length ? path.charCodeAt(i) : SLASH;
    if (code === SLASH) {
      const length = i - segmentStart;
      const dots = length <= 2 && path.charCodeAt(segmentStart) === DOT && (length === 1 || path.charCodeAt(segmentStart + 1) === DOT);
      if (length === 0 || dots) throw unsafePath(path);
      segmentStart = i + 1;
    } else if (code === 0) {
      throw unsafePath(path);
    } else if (code < 0x20 || code > 0x7e) {
      printableAscii = false;
    }
  }
  return printableAscii && path.length <= USTAR_NAME_MAX;
}

const SLASH = 0x2f;
const DOT = 0x2e;

function unsafePath(path: string): ValidationError {
  return new ValidationError('tarball entry', [
    {
      path: 'path',
      message: `${JSON.stringify(path)} must be a relative path of non-empty segments, without "." or ".." segments or NUL`,
    },
  ]);
}

/** Zero bytes after a body of `size` bytes up to the next block boundary. */
export function paddingSize(size: number): number {
  return (TAR_BLOCK_SIZE - (size % TAR_BLOCK_SIZE)) % TAR_BLOCK_SIZE;
}

function writeOctal(block: Buffer, value: number, offset: number, width: number): void {
  // width - 1 digits and a NUL, as Go and GNU tar write them.
  block.write(`${value.toString(8).padStart(width - 1, '0')}\0`, offset, width, 'ascii');
}

function ustarBlock(name: string, size: number, mode: number, mtime: Date, type: string): Buffer {
  const block = Buffer.alloc(TAR_BLOCK_SIZE);
  block.write(name, 0, USTAR_NAME_MAX, 'utf8');
  writeOctal(block, mode, 100, 8);
  writeOctal(block, 0, 108, 8); // uid
  writeOctal(block, 0, 116, 8); // gid
  writeOctal(block, size, 124, 12);
  writeOctal(block, Math.floor(mtime.getTime() / 1000), 136, 12);
  block.write(type, 156, 1, 'ascii');
  block.write('ustar\0', 257, 6, 'ascii');
  block.write('00', 263, 2, 'ascii');
  writeOctal(block, 0, 329, 8); // devmajor
  writeOctal(block, 0, 337, 8); // devminor
  // The checksum is computed with its own field read as spaces.
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return block;
}

/** One PAX record: "<length> <key>=<value>\n", where length counts the whole record. */
function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  const restBytes = Buffer.byteLength(rest);
  const digits = String(restBytes).length;
  // Adding the length's own digits can carry it into one more digit (98 + 2 = 100).
  const length = String(restBytes + digits).length > digits ? restBytes + digits + 1 : restBytes + digits;
  return `${length}${rest}`;
}

/** A ustar name for readers without PAX support: printable ASCII, at most 100 bytes. */
function ustarFallback(name: string): string {
  return name.replace(/[^\x20-\x7e]/g, '_').slice(0, USTAR_NAME_MAX);
}

/**
 * The name of a PAX header entry, as Go writes it: `<dir>/PaxHeaders.0/<file>`. Tools
 * that know PAX never extract it; older ones extract it as a file.
 */
function paxHeaderName(path: string): string {
  const slash = path.lastIndexOf('/');
  return ustarFallback(`${path.slice(0, slash + 1)}PaxHeaders.0/${path.slice(slash + 1)}`);
}

/**
 * The header blocks of one regular file: one ustar block, preceded by a PAX header and
 * its records when the path does not fit ustar. The body follows, padded with
 * paddingSize(size) zero bytes.
 */
export function encodeFileHeader(header: FileHeader): Buffer {
  if (fitsUstar(header.path)) {
    const block = Buffer.alloc(TAR_BLOCK_SIZE);
    writeUstarFileHeader(block, 0, header);
    return block;
  }
  const records = Buffer.from(paxRecord('path', header.path), 'utf8');
  const pax = ustarBlock(paxHeaderName(header.path), records.byteLength, header.mode, header.mtime, TYPE_PAX);
  const file = ustarBlock(ustarFallback(header.path), header.size, header.mode, header.mtime, TYPE_FILE);
  return Buffer.concat([pax, records, Buffer.alloc(paddingSize(records.byteLength)), file]);
}

/**
 * Writes the one-block header of a file whose path fitsUstar into `target` at `offset`:
 * the same bytes as ustarBlock, from a copied template of the fields every entry of a
 * writer shares, so only the name, size and checksum are computed per entry.
 */
export function writeUstarFileHeader(target: Buffer, offset: number, header: FileHeader): void {
  const template = ustarTemplate(header.mode, header.mtime);
  target.set(template.block, offset);
  const { path, size } = header;
  let sum = template.sum;
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i);
    target[offset + i] = code;
    sum += code;
  }
  // 11 octal digits and the template's NUL, as writeOctal writes them.
  let rest = size;
  for (let i = SIZE_OFFSET + 10; i >= SIZE_OFFSET; i--) {
    const digit = 0x30 + (rest % 8);
    target[offset + i] = digit;
    sum += digit;
    rest = Math.floor(rest / 8);
  }
  // Six octal digits, NUL, space.
  for (let i = CHECKSUM_OFFSET + 5; i >= CHECKSUM_OFFSET; i--) {
    target[offset + i] = 0x30 + (sum % 8);
    sum = Math.floor(sum / 8);
  }
  target[offset + CHECKSUM_OFFSET + 6] = 0;
  target[offset + CHECKSUM_OFFSET + 7] = 0x20;
}

const SIZE_OFFSET = 124;
const CHECKSUM_OFFSET = 148;

/** A file block with an empty name, size 0 digits left as NULs, and its byte sum (checksum field as spaces). */
interface UstarTemplate {
  mode: number;
  mtimeSeconds: number;
  block: Buffer;
  sum: number;
}

let lastTemplate: UstarTemplate | undefined;

function ustarTemplate(mode: number, mtime: Date): UstarTemplate {
  const mtimeSeconds = Math.floor(mtime.getTime() / 1000);
  if (lastTemplate?.mode === mode && lastTemplate.mtimeSeconds === mtimeSeconds) return lastTemplate;
  const block = ustarBlock('', 0, mode, mtime, TYPE_FILE);
  block.fill(0, SIZE_OFFSET, SIZE_OFFSET + 12);
  block.fill(0x20, CHECKSUM_OFFSET, CHECKSUM_OFFSET + 8);
  let sum = 0;
  for (const byte of block) sum += byte;
  lastTemplate = { mode, mtimeSeconds, block, sum };
  return lastTemplate;
}
