/** Whether `name` can name an exposed object: a letter, then up to 127 letters, digits, "_", "-" and ".". */
export function isObjectName(name: unknown): name is string {
  return typeof name === "string" && /^[A-Za-z][\w.-]{0,127}$/.test(name);
}
