/** A value: a handle to it reads `.value`, a snapshot taken when this version loaded. plugin2 has 100. */
export const V: number = 10;

/** A function: a handle to it is called as an async function. plugin2 multiplies the sum by 10. */
export function Add(x: number, y: number): number {
  return x + y;
}
