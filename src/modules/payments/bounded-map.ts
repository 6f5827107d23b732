/** A bounded map: past `maxSize` entries the oldest inserted is forgotten. */
export function createBoundedMap<V>(maxSize: number): Map<string, V> {
  const map = new Map<string, V>();
  const set = map.set.bind(map);
  map.set = (key: string, value: V) => {
    if (!map.has(key) && map.size >= maxSize) {
      const oldest = map.keys().next();
      if (oldest.done !== true) map.delete(oldest.value);
    }
    return set(key, value);
  };
  return map;
}
