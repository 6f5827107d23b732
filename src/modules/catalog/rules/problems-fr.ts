/**
 * The French of the catalog's field problems (issue #25): the `errors` lists of opening hours,
 * closures, item schedules, cities and zones are built in English by the pure rules (hours.ts,
 * cities.ts, zones.ts); each English form is matched here and said in French with the same
 * particulars (the day key, the index, the limit, the text sent). Pure; its spec fails on an
 * English form the rules produce that has no French.
 */

/** One English form and its French, the particulars carried over as `$1`, `$2`… */
const FORMS: readonly (readonly [RegExp, string])[] = [
  [/^(\w+): at most (\d+) ranges$/, '$1 : au plus $2 plages horaires'],
  [/^(\w+): (.*) is not HH:MM-HH:MM$/, '$1 : $2 n’est pas au format HH:MM-HH:MM'],
  [/^(\w+): ranges overlap \((\w+)\)$/, '$1 : des plages horaires se chevauchent ($2)'],
  [/^at most (\d+) windows$/, 'au plus $1 créneaux'],
  [/^window (\d+): no days$/, 'créneau $1 : aucun jour'],
  [/^window (\d+): (.*) is not HH:MM-HH:MM$/, 'créneau $1 : $2 n’est pas au format HH:MM-HH:MM'],
  [/^at most (\d+) closures and holidays together$/, 'au plus $1 fermetures et jours fériés au total'],
  [
    /^closure (\d+): dates must be YYYY-MM-DDTHH:MM$/,
    'fermeture $1 : les dates doivent être au format AAAA-MM-JJTHH:MM',
  ],
  [/^closure (\d+): endsAt must be after startsAt$/, 'fermeture $1 : endsAt doit être après startsAt'],
  [/^holiday (\d+): date must be YYYY-MM-DD$/, 'jour férié $1 : la date doit être au format AAAA-MM-JJ'],
  // Cities and zones: `{path, message}`, the message alone.
  [
    /^not an IANA time zone \(e\.g\. Africa\/Douala\)$/,
    'n’est pas un fuseau horaire IANA (par ex. Africa/Douala)',
  ],
  [/^south must be below north$/, 'south doit être inférieur à north'],
  [/^west must be below east$/, 'west doit être inférieur à east'],
  [
    /^a city spans at most (\S+) degrees each way$/,
    'une ville s’étend sur au plus $1 degrés dans chaque sens',
  ],
  [/^the centre must lie inside the bounds$/, 'le centre doit se trouver dans les limites'],
  [/^HH:MM-HH:MM$/, 'au format HH:MM-HH:MM'],
  [/^a percentage with at most 4 decimals$/, 'un pourcentage avec au plus 4 décimales'],
  [/^(\d+) to (\d+) vertices$/, 'de $1 à $2 sommets'],
  [/^outside the city's bounds$/, 'hors des limites de la ville'],
  [/^the outline crosses itself$/, 'le contour se croise lui-même'],
  [/^the outline has no area$/, 'le contour n’a pas de surface'],
  // H3 cells (zones and restaurants' delivery areas).
  [/^not an H3 cell id$/, 'n’est pas un identifiant de cellule H3'],
  [/^resolution (\d+) to (\d+)$/, 'résolution de $1 à $2'],
  [/^listed twice$/, 'donnée deux fois'],
  [/^(\w+) lies inside (\w+), also listed$/, '$1 se trouve dans $2, également donnée'],
  [/^at least one cell$/, 'au moins une cellule'],
  [/^at most (\d+) cell ids$/, 'au plus $1 identifiants de cellules'],
  [/^at most (\d+) cells of resolution (\d+)$/, 'au plus $1 cellules de résolution $2'],
  [
    /^smaller than one H3 cell of resolution (\d+); draw it wider or give cells$/,
    'plus petit qu’une cellule H3 de résolution $1 ; dessinez-le plus large ou donnez des cellules',
  ],
  [/^covers more than (\d+) cells of resolution (\d+)$/, 'couvre plus de $1 cellules de résolution $2'],
  [/^a polygon or cells$/, 'un polygone ou des cellules'],
];

/** The French of one English field problem; undefined for a form not listed (its spec says which). */
export function fieldProblemFr(english: string): string | undefined {
  for (const [pattern, french] of FORMS) if (pattern.test(english)) return english.replace(pattern, french);
  return undefined;
}

/** The French of a list of problems, each falling back to its English when no form matches. */
export function fieldProblemsFr(problems: readonly string[]): string[] {
  return problems.map((problem) => fieldProblemFr(problem) ?? problem);
}

/** The same for `{path, message}` lines (cities, zones): the path stays, the message is French. */
export function pathProblemsFr<T extends { path: string; message: string }>(problems: readonly T[]): T[] {
  return problems.map((problem) => ({
    ...problem,
    message: fieldProblemFr(problem.message) ?? problem.message,
  }));
}
