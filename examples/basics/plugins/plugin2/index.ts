/** A value: a handle to it reads `.value`, a snapshot taken when this version loaded. plugin1 has 10. */
export const V: number = 100;

/** A function: a handle to it is called as an async function. plugin1 returns the plain sum. */
export function Add(x: number, y: number): number {
  return (x + y) * 10;
}
