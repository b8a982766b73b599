/** The example's plugin: a greeting, and a refusal the traces show as an error span. */
export function greet(name) {
  if (name === '') {
    const error = new Error('greet() needs a name');
    error.code = 'E_NO_NAME';
    throw error;
  }
  return `Hello, ${name}`;
}
