/**
 * The error catalogue: every problem `code` the API answers, with its status, the areas (OpenAPI
 * tags) whose routes may answer it, and a title and description in English and French. One
 * source for the problem `type` pages (`GET /problems/<code>`), the problem titles, and the codes
 * each operation lists in the OpenAPI document (`x-problem-codes`).
 *
 * A test scans src/ for thrown codes and fails on any that is missing here
 * (tests/integration/api-contract.test.ts).
 */

export type Language = 'en' | 'fr';

export interface ProblemText {
  title: string;
  description: string;
}

export interface CatalogueEntry {
  code: string;
  /** The status(es) the code is answered with. */
  statuses: readonly number[];
  /** The OpenAPI tags whose routes may answer it; '*' for any route. */
  areas: readonly string[] | '*';
  en: ProblemText;
  fr: ProblemText;
}

const ANY = '*' as const;
const IDENTITY = ['auth', 'me', 'admin', 'internal'];
/** Social sign-in (issue #26): the auth routes and the linked accounts under /v1/me. */
const SOCIAL = ['auth', 'me'];
const CATALOG = ['catalog', 'reviews', 'admin'];
const CITIES = ['catalog'];
const ORDERS = ['orders', 'carts', 'tracking'];
const PAYMENTS = ['wallet', 'payments', 'payouts', 'webhooks', 'commission', 'reconciliation', 'reports'];
const LEDGER = ['ledger'];
const NOTIFY = ['notifications', 'devices', 'admin'];
const FILES = ['files'];
const DISPATCH = ['drivers'];
const SUPPORT = ['support'];
const COUPONS = ['promotions'];
const LOYALTY = ['loyalty'];
const RECOMMENDATIONS = ['recommendations'];
const USSD = ['ussd'];
const ADMIN = ['admin'];
/** Favourites and shared links (src/modules/community, docs/community.md). */
const COMMUNITY = ['favourites', 'share', 'community'];
/** Bulk orders (issue #27). */
const BULK = ['bulk-orders'];
/** Restaurants' inventory (src/modules/inventory, docs/inventory.md). */
const INVENTORY = ['inventory'];

type Row = [
  code: string,
  statuses: number | number[],
  areas: readonly string[] | '*',
  en: [title: string, description: string],
  fr: [title: string, description: string],
];

/* prettier-ignore */
const ROWS: Row[] = [
  // Any route: the edge itself (validation, limits, outages).
  ['validation_failed', 400, ANY, ['Invalid request', 'A field of the body, query, path or a header does not match the schema; `errors` lists each one.'], ['Requête invalide', 'Un champ du corps, de la requête, du chemin ou un en-tête ne respecte pas le schéma ; `errors` les liste.']],
  ['malformed_json', 400, ANY, ['Malformed JSON', 'The body is empty or not valid JSON.'], ['JSON mal formé', 'Le corps est vide ou n’est pas du JSON valide.']],
  ['bad_request', 400, ANY, ['Bad request', 'The request could not be read (URL, Content-Length).'], ['Requête incorrecte', 'La requête est illisible (URL, Content-Length).']],
  ['invalid_characters', 400, ANY, ['Invalid characters', 'The request holds a NUL character or a lone UTF-16 surrogate.'], ['Caractères invalides', 'La requête contient un caractère NUL ou un demi-caractère UTF-16 isolé.']],
  ['invalid_cursor', 400, ANY, ['Invalid cursor', 'The page cursor is not one this API issued; start from the first page.'], ['Curseur invalide', 'Le curseur de page n’a pas été émis par cette API ; repartez de la première page.']],
  ['unauthorized', 401, ANY, ['Sign in first', 'No valid access token was sent: send `Authorization: Bearer <token>`.'], ['Connectez-vous', 'Aucun jeton d’accès valide : envoyez `Authorization: Bearer <jeton>`.']],
  ['invalid_token', 401, ANY, ['Invalid token', 'The access token is malformed or its signature is wrong; log in again.'], ['Jeton invalide', 'Le jeton d’accès est mal formé ou mal signé ; reconnectez-vous.']],
  ['token_expired', 401, ANY, ['Token expired', 'The access token has expired; refresh it.'], ['Jeton expiré', 'Le jeton d’accès a expiré ; renouvelez-le.']],
  ['token_revoked', 401, ANY, ['Token revoked', 'The session behind the token was revoked; log in again.'], ['Jeton révoqué', 'La session de ce jeton a été révoquée ; reconnectez-vous.']],
  ['session_revoked', 401, ANY, ['Session revoked', 'The session was ended; log in again.'], ['Session révoquée', 'La session a été fermée ; reconnectez-vous.']],
  ['session_idle_timeout', 401, ANY, ['Session idle', 'The session was idle too long; log in again.'], ['Session inactive', 'La session est restée inactive trop longtemps ; reconnectez-vous.']],
  ['forbidden', 403, ANY, ['Forbidden', 'Your roles do not allow this.'], ['Interdit', 'Vos rôles ne le permettent pas.']],
  ['permission_denied', 403, ANY, ['Permission denied', 'None of your roles has a permission this route needs.'], ['Permission refusée', 'Aucun de vos rôles n’a la permission requise.']],
  ['not_found', 404, ANY, ['Not found', 'The resource does not exist, or is not yours to see.'], ['Introuvable', 'La ressource n’existe pas ou ne vous est pas visible.']],
  ['route_not_found', 404, ANY, ['No such route', 'No route answers this method and path.'], ['Route inconnue', 'Aucune route ne répond à cette méthode et ce chemin.']],
  ['conflict', 409, ANY, ['Conflict', 'The request contradicts the current state; reload and retry.'], ['Conflit', 'La requête contredit l’état actuel ; rechargez puis réessayez.']],
  ['concurrency_conflict', 409, ANY, ['Changed meanwhile', 'The resource changed while you were changing it; reload and retry.'], ['Modifié entre-temps', 'La ressource a changé pendant votre modification ; rechargez puis réessayez.']],
  ['duplicate_event_ids', 409, ANY, ['Duplicate change', 'This change was already recorded by another request.'], ['Modification en double', 'Cette modification a déjà été enregistrée par une autre requête.']],
  ['precondition_failed', 412, ANY, ['Precondition failed', 'A precondition of the request does not hold.'], ['Condition préalable non remplie', 'Une condition préalable de la requête n’est pas remplie.']],
  ['payload_too_large', 413, ANY, ['Body too large', 'The request body is larger than this server accepts.'], ['Corps trop volumineux', 'Le corps de la requête dépasse la taille acceptée.']],
  ['event_too_large', 413, ANY, ['Change too large', 'The change is larger than one event may be.'], ['Modification trop volumineuse', 'La modification dépasse la taille d’un événement.']],
  ['unsupported_media_type', 415, ANY, ['Unsupported media type', 'Send the body as application/json.'], ['Type de contenu non pris en charge', 'Envoyez le corps en application/json.']],
  ['unprocessable', 422, ANY, ['Refused', 'The request is well-formed but the rules refuse it.'], ['Refusé', 'La requête est bien formée mais les règles la refusent.']],
  ['rate_limited', 429, ANY, ['Too many requests', 'Slow down: retry after the `Retry-After` seconds.'], ['Trop de requêtes', 'Ralentissez : réessayez après `Retry-After` secondes.']],
  ['internal_error', 500, ANY, ['Internal error', 'Something broke on our side; the request id helps support find it.'], ['Erreur interne', 'Une erreur est survenue chez nous ; l’identifiant de requête aide le support.']],
  ['service_unavailable', 503, ANY, ['Service unavailable', 'A service this request needs is down; retry after `Retry-After` seconds.'], ['Service indisponible', 'Un service nécessaire est indisponible ; réessayez après `Retry-After` secondes.']],
  ['overloaded', 503, ANY, ['Overloaded', 'The server is shedding load; retry after `Retry-After` seconds.'], ['Surchargé', 'Le serveur est surchargé ; réessayez après `Retry-After` secondes.']],
  ['too_many_connections', 503, ['realtime'], ['Too many connections', 'Too many live connections are open; retry later.'], ['Trop de connexions', 'Trop de connexions en direct sont ouvertes ; réessayez plus tard.']],
  // Idempotency-Key (src/http/idempotency.ts).
  ['idempotency_key_required', 400, ANY, ['Idempotency-Key required', 'This route needs an `Idempotency-Key` header (8-128 characters).'], ['Idempotency-Key requis', 'Cette route exige un en-tête `Idempotency-Key` (8 à 128 caractères).']],
  ['idempotency_key_invalid', 400, ANY, ['Invalid Idempotency-Key', 'Idempotency-Key must be 8-128 characters among A-Z a-z 0-9 _ . : -.'], ['Idempotency-Key invalide', 'Idempotency-Key doit compter 8 à 128 caractères parmi A-Z a-z 0-9 _ . : -.']],
  ['idempotency_key_reused', 409, ANY, ['Idempotency-Key reused', 'This key was used with another request; use a new key for a new request.'], ['Idempotency-Key réutilisée', 'Cette clé a servi pour une autre requête ; prenez une nouvelle clé.']],
  ['idempotency_in_progress', 409, ANY, ['Request in progress', 'A request with this key is still running; retry after `Retry-After` seconds.'], ['Requête en cours', 'Une requête avec cette clé est en cours ; réessayez après `Retry-After` secondes.']],
  // Identity.
  ['account_exists', 409, IDENTITY, ['Account exists', 'An account already uses this phone or e-mail; log in instead.'], ['Compte existant', 'Un compte utilise déjà ce téléphone ou cet e-mail ; connectez-vous.']],
  ['account_locked', 429, IDENTITY, ['Account locked', 'Too many failed attempts; wait `Retry-After` seconds.'], ['Compte bloqué', 'Trop d’échecs ; attendez `Retry-After` secondes.']],
  ['account_suspended', 403, IDENTITY, ['Account suspended', 'This account is suspended; contact support.'], ['Compte suspendu', 'Ce compte est suspendu ; contactez le support.']],
  ['cannot_suspend_self', 409, IDENTITY, ['Cannot suspend yourself', 'An admin cannot suspend their own account.'], ['Auto-suspension impossible', 'Un administrateur ne peut pas suspendre son propre compte.']],
  ['email_taken', 409, IDENTITY, ['E-mail taken', 'Another account uses this e-mail address.'], ['E-mail déjà pris', 'Un autre compte utilise cette adresse e-mail.']],
  ['guest_account', 409, IDENTITY, ['Guest account', 'A guest session cannot do this; convert it to an account first.'], ['Compte invité', 'Une session invitée ne peut pas le faire ; convertissez-la d’abord.']],
  ['invalid_credentials', 401, IDENTITY, ['Wrong credentials', 'The phone, e-mail, password or code does not match.'], ['Identifiants incorrects', 'Le téléphone, l’e-mail, le mot de passe ou le code ne correspond pas.']],
  ['invalid_phone', 400, IDENTITY, ['Invalid phone number', 'Give a Cameroonian mobile number in E.164 form (+2376XXXXXXXX).'], ['Numéro invalide', 'Donnez un numéro mobile camerounais au format E.164 (+2376XXXXXXXX).']],
  ['invalid_refresh_token', 401, IDENTITY, ['Invalid refresh token', 'The refresh token is unknown or was already used; log in again.'], ['Jeton de renouvellement invalide', 'Le jeton de renouvellement est inconnu ou déjà utilisé ; reconnectez-vous.']],
  ['refresh_token_reused', 401, IDENTITY, ['Refresh token reused', 'This refresh token was already used, so the session was ended for safety; log in again.'], ['Jeton de renouvellement réutilisé', 'Ce jeton a déjà servi, la session a donc été fermée par sécurité ; reconnectez-vous.']],
  ['refresh_token_expired', 401, IDENTITY, ['Session expired', 'The session has expired; log in again.'], ['Session expirée', 'La session a expiré ; reconnectez-vous.']],
  ['invalid_reset_token', 400, IDENTITY, ['Invalid reset code', 'The password reset code is wrong or expired; ask for a new one.'], ['Code de réinitialisation invalide', 'Le code est faux ou expiré ; demandez-en un nouveau.']],
  ['invalid_two_factor_code', [400, 401], IDENTITY, ['Wrong two-factor code', 'The authenticator code is wrong or was already used.'], ['Code à deux facteurs incorrect', 'Le code de l’authentificateur est faux ou déjà utilisé.']],
  ['ip_not_allowed', 403, IDENTITY, ['Address not allowed', 'Admin routes only answer from allowed addresses.'], ['Adresse non autorisée', 'Les routes d’administration ne répondent qu’aux adresses autorisées.']],
  ['not_suspended', 409, IDENTITY, ['Not suspended', 'The account is not suspended.'], ['Non suspendu', 'Le compte n’est pas suspendu.']],
  ['nothing_to_verify', 409, IDENTITY, ['Nothing to verify', 'No verification is pending for this phone.'], ['Rien à vérifier', 'Aucune vérification n’est en attente pour ce téléphone.']],
  ['origin_not_allowed', 403, IDENTITY, ['Origin not allowed', 'Cookie-authenticated requests must come from an allowed origin.'], ['Origine non autorisée', 'Les requêtes authentifiées par cookie doivent venir d’une origine autorisée.']],
  ['otp_rate_limited', 429, IDENTITY, ['Too many codes', 'Too many SMS codes were asked for; wait `Retry-After` seconds.'], ['Trop de codes', 'Trop de codes SMS demandés ; attendez `Retry-After` secondes.']],
  ['password_required', 400, IDENTITY, ['Password required', 'Give your current password.'], ['Mot de passe requis', 'Donnez votre mot de passe actuel.']],
  ['phone_not_verified', 403, IDENTITY, ['Phone not verified', 'Verify your phone with the SMS code first.'], ['Téléphone non vérifié', 'Vérifiez d’abord votre téléphone avec le code SMS.']],
  ['phone_taken', 409, IDENTITY, ['Phone taken', 'Another account uses this phone number.'], ['Téléphone déjà pris', 'Un autre compte utilise ce numéro.']],
  ['sms_budget_exhausted', 503, IDENTITY, ['SMS unavailable', 'No more SMS can be sent for now; retry after `Retry-After` seconds.'], ['SMS indisponibles', 'Plus aucun SMS ne peut partir pour l’instant ; réessayez après `Retry-After` secondes.']],
  ['step_up_required', 403, ANY, ['Confirm with your code', 'This action needs a recent two-factor step-up (POST /v1/auth/step-up).'], ['Confirmez avec votre code', 'Cette action exige une confirmation à deux facteurs récente (POST /v1/auth/step-up).']],
  ['too_many_addresses', 422, IDENTITY, ['Too many addresses', 'Delete an address before adding another.'], ['Trop d’adresses', 'Supprimez une adresse avant d’en ajouter une.']],
  ['two_factor_already_enabled', 409, IDENTITY, ['Two-factor already on', 'Two-factor authentication is already enabled.'], ['Double authentification déjà active', 'La double authentification est déjà activée.']],
  ['two_factor_code_required', 401, IDENTITY, ['Two-factor code required', 'Send your authenticator code with the login.'], ['Code à deux facteurs requis', 'Envoyez le code de votre authentificateur avec la connexion.']],
  ['two_factor_mandatory', 409, IDENTITY, ['Two-factor mandatory', 'Your role requires two-factor authentication; it cannot be turned off.'], ['Double authentification obligatoire', 'Votre rôle exige la double authentification ; elle ne peut pas être désactivée.']],
  ['two_factor_not_set_up', 409, IDENTITY, ['Two-factor not set up', 'Set up two-factor authentication first.'], ['Double authentification non configurée', 'Configurez d’abord la double authentification.']],
  ['two_factor_required', 403, ANY, ['Two-factor required', 'Your role must enable two-factor authentication before using this.'], ['Double authentification requise', 'Votre rôle doit activer la double authentification d’abord.']],
  ['unknown_role', 400, IDENTITY, ['Unknown role', 'The role is not one of the six roles.'], ['Rôle inconnu', 'Le rôle n’est pas l’un des six rôles.']],
  ['otp_invalid', 400, SOCIAL, ['Wrong code', 'The SMS code is wrong or no code is pending; check the SMS or ask for a new code.'], ['Code incorrect', 'Le code SMS est faux ou aucun code n’est en attente ; vérifiez le SMS ou demandez un nouveau code.']],
  ['account_closed', 403, SOCIAL, ['Account closed', 'This account is closed.'], ['Compte fermé', 'Ce compte est fermé.']],
  ['social_provider_not_configured', 404, SOCIAL, ['Provider not available', 'Sign-in with this provider is not available here.'], ['Fournisseur indisponible', 'La connexion avec ce fournisseur n’est pas disponible ici.']],
  ['social_state_invalid', 400, SOCIAL, ['Sign-in state invalid', 'The sign-in state is unknown, used or expired; start the sign-in again.'], ['État de connexion invalide', 'L’état de connexion est inconnu, déjà utilisé ou expiré ; recommencez la connexion.']],
  ['social_authorization_denied', 400, SOCIAL, ['Sign-in not authorised', 'The provider did not authorise the sign-in.'], ['Connexion non autorisée', 'Le fournisseur n’a pas autorisé la connexion.']],
  ['social_code_rejected', 400, SOCIAL, ['Code refused by the provider', 'The provider refused the authorisation code (used, expired or for another sign-in); start again.'], ['Code refusé par le fournisseur', 'Le fournisseur a refusé le code d’autorisation (utilisé, expiré ou d’une autre connexion) ; recommencez.']],
  ['social_token_invalid', 401, SOCIAL, ['Provider answer invalid', 'The provider’s ID token failed its checks (nonce, audience, issuer, signature or expiry).'], ['Réponse du fournisseur invalide', 'Le jeton d’identité du fournisseur a échoué aux contrôles (nonce, audience, émetteur, signature ou expiration).']],
  ['social_email_unverified', 403, SOCIAL, ['E-mail not verified', 'Verify your e-mail address at the provider first.'], ['E-mail non vérifié', 'Vérifiez d’abord votre adresse e-mail chez le fournisseur.']],
  ['social_provider_unavailable', 503, SOCIAL, ['Provider unreachable', 'The sign-in provider could not be reached; retry later.'], ['Fournisseur injoignable', 'Le fournisseur de connexion est injoignable ; réessayez plus tard.']],
  ['social_ticket_invalid', 400, SOCIAL, ['Sign-in ticket invalid', 'The sign-in ticket is unknown, used or expired; start the sign-in again.'], ['Ticket de connexion invalide', 'Le ticket de connexion est inconnu, utilisé ou expiré ; recommencez la connexion.']],
  ['social_phone_missing', 409, SOCIAL, ['Phone number missing', 'Name your phone number first; its SMS code completes the sign-in.'], ['Numéro manquant', 'Indiquez d’abord votre numéro ; son code SMS termine la connexion.']],
  ['social_provider_already_linked', 409, SOCIAL, ['Provider already linked', 'This account is already linked to another account at this provider; unlink it first.'], ['Fournisseur déjà lié', 'Ce compte est déjà lié à un autre compte chez ce fournisseur ; déliez-le d’abord.']],
  ['social_identity_taken', 409, SOCIAL, ['Provider account already linked', 'This provider account is already linked to an account.'], ['Compte fournisseur déjà lié', 'Ce compte du fournisseur est déjà lié à un compte.']],
  ['social_account_just_created', 409, SOCIAL, ['Account just created', 'An account was created for this phone number a moment ago by another sign-in; start the sign-in again to link to it.'], ['Compte tout juste créé', 'Un compte vient d’être créé pour ce numéro par une autre connexion ; recommencez la connexion pour vous y lier.']],
  ['social_identity_not_found', 404, SOCIAL, ['Not linked', 'No account at this provider is linked.'], ['Non lié', 'Aucun compte de ce fournisseur n’est lié.']],
  ['last_sign_in_method', 409, SOCIAL, ['Last way to sign in', 'This is your only way to sign in; set a password or link another provider first.'], ['Dernier moyen de connexion', 'C’est votre seul moyen de connexion ; définissez un mot de passe ou liez un autre fournisseur d’abord.']],
  ['weak_password', 422, IDENTITY, ['Weak password', 'Choose a longer, less common password.'], ['Mot de passe faible', 'Choisissez un mot de passe plus long et moins courant.']],
  ['signature_missing', 401, ANY, ['Signature missing', 'This route needs a signed request.'], ['Signature manquante', 'Cette route exige une requête signée.']],
  ['signature_invalid', 401, ANY, ['Invalid signature', 'The request signature is not valid.'], ['Signature invalide', 'La signature de la requête n’est pas valide.']],
  ['signature_expired', 401, ANY, ['Signature expired', 'The signed request is too old; sign it again.'], ['Signature expirée', 'La requête signée est trop ancienne ; signez-la à nouveau.']],
  ['signature_replayed', 401, ANY, ['Signature replayed', 'This signed request was already used.'], ['Signature rejouée', 'Cette requête signée a déjà servi.']],
  ['api_key_missing', 401, ANY, ['API key missing', 'This partner route needs a partner API key in `x-api-key`.'], ['Clé d’API manquante', 'Cette route partenaire exige une clé d’API partenaire dans `x-api-key`.']],
  ['api_key_invalid', 401, ANY, ['Invalid API key', 'The partner API key is unknown, wrong, expired or revoked.'], ['Clé d’API invalide', 'La clé d’API partenaire est inconnue, erronée, expirée ou révoquée.']],
  ['api_key_scope_missing', 403, ANY, ['Scope missing', 'The partner API key does not have the scope this route needs.'], ['Portée manquante', 'La clé d’API partenaire n’a pas la portée que cette route exige.']],
  ['partner_key_not_found', 404, ADMIN, ['No such partner key', 'There is no partner API key with this id.'], ['Clé partenaire introuvable', 'Aucune clé d’API partenaire ne porte cet identifiant.']],
  ['partner_key_not_active', 409, ADMIN, ['Partner key not active', 'The key was already rotated, has expired or was revoked; `rotatedTo` names its successor.'], ['Clé partenaire inactive', 'La clé a déjà été renouvelée, a expiré ou a été révoquée ; `rotatedTo` nomme la suivante.']],
  ['partner_key_already_issued', 409, ADMIN, ['Key already issued', 'This Idempotency-Key already issued a key (`keyId`); its secrets are shown once only: rotate it for new ones.'], ['Clé déjà émise', 'Cette Idempotency-Key a déjà émis une clé (`keyId`) ; ses secrets ne sont montrés qu’une fois : renouvelez-la.']],
  // Catalog and reviews.
  ['city_unknown', 422, CITIES, ['City not served', 'We do not serve this city (yet); the answer lists the cities on offer.'], ['Ville non desservie', 'Nous ne desservons pas (encore) cette ville ; la réponse liste les villes proposées.']],
  ['delivery_zone_unknown', 422, CATALOG, ['Unknown delivery zone', 'A delivery zone named is not an active zone of the restaurant’s city; the answer lists those on offer.'], ['Zone de livraison inconnue', 'Une zone de livraison indiquée n’est pas une zone active de la ville du restaurant ; la réponse liste celles proposées.']],
  ['city_not_found', 404, CITIES, ['No such city', 'No city has this id.'], ['Ville inconnue', 'Aucune ville n’a cet identifiant.']],
  ['city_exists', 409, CITIES, ['City already exists', 'A city with this id already exists; update it instead.'], ['Ville déjà existante', 'Une ville avec cet identifiant existe déjà ; modifiez-la plutôt.']],
  ['city_limit_reached', 409, CITIES, ['Too many cities', 'The platform holds at most 500 cities.'], ['Trop de villes', 'La plateforme compte au plus 500 villes.']],
  ['invalid_city', 400, CITIES, ['Invalid city', 'The time zone, bounds or centre of the city are not valid; see the errors.'], ['Ville invalide', 'Le fuseau horaire, les limites ou le centre de la ville ne sont pas valides ; voir les erreurs.']],
  ['zone_not_found', 404, CITIES, ['No such zone', 'The city has no zone with this id.'], ['Zone inconnue', 'La ville n’a pas de zone avec cet identifiant.']],
  ['zone_exists', 409, CITIES, ['Zone already exists', 'The city already has a zone with this id; update it instead.'], ['Zone déjà existante', 'La ville a déjà une zone avec cet identifiant ; modifiez-la plutôt.']],
  ['zone_limit_reached', 409, CITIES, ['Too many zones', 'A city holds at most 100 zones.'], ['Trop de zones', 'Une ville compte au plus 100 zones.']],
  ['invalid_zone', 400, CITIES, ['Invalid zone', 'The zone’s outline is outside its city, crosses itself or has no area, or a surge window is malformed; see the errors.'], ['Zone invalide', 'Le contour de la zone sort de sa ville, se croise ou n’a pas de surface, ou une plage de majoration est mal formée ; voir les erreurs.']],
  ['invalid_delivery_area', 400, CITIES, ['Invalid delivery area', 'The restaurant’s delivery area has a malformed or repeated cell, a cell outside its city or too fine, an outline that crosses itself or is smaller than a cell, or too many cells; see the errors.'], ['Zone de livraison invalide', 'La zone de livraison du restaurant a une cellule mal formée ou répétée, une cellule hors de sa ville ou trop fine, un contour qui se croise ou plus petit qu’une cellule, ou trop de cellules ; voir les erreurs.']],
  ['delivery_area_not_set', 404, CITIES, ['No delivery area', 'The restaurant has no delivery area of its own; it delivers within its radius (and its named zones).'], ['Pas de zone de livraison', 'Le restaurant n’a pas de zone de livraison propre ; il livre dans son rayon (et ses zones nommées).']],
  ['already_rated', 409, CATALOG, ['Already rated', 'You already rated this driver for this order.'], ['Déjà noté', 'Vous avez déjà noté ce livreur pour cette commande.']],
  ['already_replied', 409, CATALOG, ['Already replied', 'The restaurant already replied to this review.'], ['Déjà répondu', 'Le restaurant a déjà répondu à cet avis.']],
  ['already_reviewed', 409, CATALOG, ['Already reviewed', 'You already reviewed this order.'], ['Déjà évalué', 'Vous avez déjà évalué cette commande.']],
  ['category_archived', 409, CATALOG, ['Category archived', 'The menu category is archived.'], ['Catégorie archivée', 'La catégorie du menu est archivée.']],
  ['category_not_found', 404, CATALOG, ['Category not found', 'There is no such menu category.'], ['Catégorie introuvable', 'Cette catégorie de menu n’existe pas.']],
  ['invalid_closures', 400, CATALOG, ['Invalid closures', 'The closure dates are malformed or overlap.'], ['Fermetures invalides', 'Les dates de fermeture sont mal formées ou se chevauchent.']],
  // Search by meaning, voice and photo (issue #27, docs/catalog.md).
  ['query_too_short', 400, CATALOG, ['Query too short', 'The search text needs at least 2 letters or digits.'], ['Recherche trop courte', 'Le texte recherché doit compter au moins 2 lettres ou chiffres.']],
  ['search_ai_unavailable', 503, CATALOG, ['Voice and photo search unavailable', 'Voice and photo search need the AI model, which is not configured, over its daily budget, failing or too slow right now (`reason`); search by text meanwhile.'], ['Recherche vocale et par photo indisponible', 'La recherche par la voix et par photo a besoin du modèle d’IA, qui n’est pas configuré, a épuisé son budget du jour, échoue ou est trop lent en ce moment (`reason`) ; cherchez par texte en attendant.']],
  ['audio_too_large', 413, CATALOG, ['Clip too large', 'The audio clip is larger than the voice search takes (`maxBytes`).'], ['Extrait trop volumineux', 'L’extrait audio dépasse la taille acceptée par la recherche vocale (`maxBytes`).']],
  ['audio_too_long', 400, CATALOG, ['Clip too long', 'The audio clip lasts longer than the voice search takes (`maxSeconds`).'], ['Extrait trop long', 'L’extrait audio dure plus longtemps que ne l’accepte la recherche vocale (`maxSeconds`).']],
  ['image_too_large', 413, CATALOG, ['Photo too large', 'The photo is larger than the photo search takes (`maxBytes`).'], ['Photo trop volumineuse', 'La photo dépasse la taille acceptée par la recherche par photo (`maxBytes`).']],
  ['unsupported_audio', 415, CATALOG, ['Unsupported audio', 'Send the clip as the raw request body with its Content-Type: WAV, MP3, OGG, FLAC or AAC.'], ['Audio non pris en charge', 'Envoyez l’extrait comme corps brut de la requête avec son Content-Type : WAV, MP3, OGG, FLAC ou AAC.']],
  ['unsupported_image', 415, CATALOG, ['Unsupported image', 'Send the photo as the raw request body with its Content-Type: JPEG, PNG or WebP.'], ['Image non prise en charge', 'Envoyez la photo comme corps brut de la requête avec son Content-Type : JPEG, PNG ou WebP.']],
  ['media_mismatch', 400, CATALOG, ['Not the format named', 'The bytes sent are not the audio or image format the Content-Type names (or the header is unreadable).'], ['Format différent de celui annoncé', 'Les octets envoyés ne sont pas au format audio ou image qu’annonce le Content-Type (ou l’en-tête est illisible).']],
  ['invalid_coordinates', 400, CATALOG, ['Invalid coordinates', 'Give latitude and longitude together, within range.'], ['Coordonnées invalides', 'Donnez latitude et longitude ensemble, dans les bornes.']],
  ['invalid_opening_hours', 400, CATALOG, ['Invalid opening hours', 'Opening hours must be HH:MM ranges that do not overlap.'], ['Horaires invalides', 'Les horaires doivent être des plages HH:MM sans chevauchement.']],
  ['invalid_price', 400, CATALOG, ['Invalid price', 'The price is out of range for the currency.'], ['Prix invalide', 'Le prix est hors bornes pour la devise.']],
  ['invalid_schedule', [400, 422], [...CATALOG, ...ORDERS], ['Invalid schedule', 'The scheduled time is too soon, too far, or outside opening hours.'], ['Horaire invalide', 'L’heure prévue est trop proche, trop lointaine ou hors des horaires.']],
  ['invalid_status_transition', 409, CATALOG, ['Invalid status change', 'The restaurant cannot move to this status from its current one.'], ['Changement de statut invalide', 'Le restaurant ne peut pas passer à ce statut depuis l’actuel.']],
  ['reason_required', 400, [...CATALOG, ...DISPATCH], ['Reason required', 'This decision needs a reason.'], ['Motif requis', 'Cette décision exige un motif.']],
  ['description_draft_not_found', 404, CATALOG, ['No description draft', 'The menu item has no description draft: ask for one first.'], ['Aucun brouillon de description', 'Ce plat n’a pas de brouillon de description : demandez-en un d’abord.']],
  ['description_draft_changed', 409, CATALOG, ['Description draft replaced', 'A newer description draft replaced the one confirmed (`currentDraftId`): read it, then confirm it.'], ['Brouillon de description remplacé', 'Un brouillon plus récent a remplacé celui confirmé (`currentDraftId`) : lisez-le, puis confirmez-le.']],
  ['menu_item_not_found', 404, [...CATALOG, ...ORDERS, ...FILES, ...COMMUNITY, ...INVENTORY], ['Dish not found', 'There is no such dish on this menu.'], ['Plat introuvable', 'Ce plat n’existe pas sur ce menu.']],
  ['menu_limit_reached', 409, CATALOG, ['Menu limit reached', 'The menu holds as many entries as it may.'], ['Limite du menu atteinte', 'Le menu contient le maximum d’entrées permis.']],
  ['invalid_modifier_group', 400, CATALOG, ['Invalid option group', 'The option group’s options or selection bounds are not valid.'], ['Groupe d’options invalide', 'Les options ou les bornes de sélection du groupe ne sont pas valides.']],
  ['modifier_min_exceeds_max', 400, CATALOG, ['Minimum above maximum', 'The minimum number of selections is above the maximum.'], ['Minimum supérieur au maximum', 'Le nombre minimum de choix dépasse le maximum.']],
  ['modifier_group_not_found', 404, CATALOG, ['Option group not found', 'There is no such option group.'], ['Groupe d’options introuvable', 'Ce groupe d’options n’existe pas.']],
  ['not_restaurant_owner', 403, [...CATALOG, ...FILES, ...COUPONS], ['Not your restaurant', 'Only the restaurant’s owner may do this.'], ['Pas votre restaurant', 'Seul le propriétaire du restaurant peut le faire.']],
  ['order_not_reviewable', 403, CATALOG, ['Order not reviewable', 'Only a delivered order of yours can be reviewed.'], ['Commande non évaluable', 'Seule une de vos commandes livrées peut être évaluée.']],
  ['own_review', 422, CATALOG, ['Your own review', 'You cannot mark your own review helpful.'], ['Votre propre avis', 'Vous ne pouvez pas juger utile votre propre avis.']],
  ['restaurant_not_found', 404, [...CATALOG, ...ORDERS, ...PAYMENTS, ...FILES, ...COUPONS, ...COMMUNITY, ...INVENTORY, ...BULK], ['Restaurant not found', 'There is no such restaurant (of yours).'], ['Restaurant introuvable', 'Ce restaurant n’existe pas (ou n’est pas le vôtre).']],
  ['review_not_found', 404, CATALOG, ['Review not found', 'There is no such review.'], ['Avis introuvable', 'Cet avis n’existe pas.']],
  ['review_window_closed', 422, CATALOG, ['Review window closed', 'The time to review this order has passed.'], ['Délai d’évaluation dépassé', 'Le délai pour évaluer cette commande est passé.']],
  ['too_many_cuisines', 400, CATALOG, ['Too many cuisines', 'Pick fewer cuisines.'], ['Trop de cuisines', 'Choisissez moins de cuisines.']],
  ['unknown_cuisine', 400, CATALOG, ['Unknown cuisine', 'The cuisine is not in the list of cuisines.'], ['Cuisine inconnue', 'Cette cuisine n’est pas dans la liste.']],
  // Orders and carts.
  ['order_not_found', 404, [...ORDERS, ...PAYMENTS, ...FILES, ...SUPPORT], ['Order not found', 'There is no such order, or it is not yours to see.'], ['Commande introuvable', 'Cette commande n’existe pas ou ne vous est pas visible.']],
  ['illegal_transition', 409, ORDERS, ['Not in this state', 'The order’s current status (`currentStatus`) does not allow this.'], ['Impossible dans cet état', 'Le statut actuel (`currentStatus`) ne le permet pas.']],
  ['cancellation_not_allowed', 409, ORDERS, ['Cannot cancel', 'You may not cancel the order at this stage.'], ['Annulation impossible', 'Vous ne pouvez pas annuler la commande à ce stade.']],
  ['already_claimed', 409, ORDERS, ['Already claimed', 'Another driver took this order.'], ['Déjà prise', 'Un autre livreur a pris cette commande.']],
  ['not_assigned_driver', 403, ORDERS, ['Not your delivery', 'Only the driver who claimed the order may do this.'], ['Pas votre livraison', 'Seul le livreur qui a pris la commande peut le faire.']],
  ['not_your_role', 403, ORDERS, ['Not your role', 'Your relation to this order does not allow this step.'], ['Pas votre rôle', 'Votre lien avec cette commande ne permet pas cette étape.']],
  ['invalid_pickup_code', 422, ORDERS, ['Wrong pickup code', 'The pickup code is wrong; `attemptsLeft` says how many tries remain.'], ['Code de retrait incorrect', 'Le code de retrait est faux ; `attemptsLeft` indique les essais restants.']],
  ['pickup_code_locked', 429, ORDERS, ['Pickup code locked', 'Too many wrong codes; retry after `Retry-After` seconds.'], ['Code de retrait bloqué', 'Trop de codes faux ; réessayez après `Retry-After` secondes.']],
  ['invalid_delivery_pin', 422, ORDERS, ['Wrong delivery PIN', 'The delivery PIN is wrong; `attemptsLeft` says how many tries remain.'], ['Code de livraison incorrect', 'Le code de livraison est faux ; `attemptsLeft` indique les essais restants.']],
  ['delivery_pin_locked', 429, ORDERS, ['Delivery PIN locked', 'Too many wrong PINs; retry after `Retry-After` seconds.'], ['Code de livraison bloqué', 'Trop de codes faux ; réessayez après `Retry-After` secondes.']],
  ['too_early', 409, ORDERS, ['Too early', 'This step is not allowed yet.'], ['Trop tôt', 'Cette étape n’est pas encore permise.']],
  ['dispute_window_closed', 409, ORDERS, ['Dispute window closed', 'The time to dispute this order has passed.'], ['Délai de réclamation dépassé', 'Le délai de réclamation est passé.']],
  ['invalid_command', 422, ORDERS, ['Invalid command', 'The values given are out of range for this step.'], ['Commande invalide', 'Les valeurs données sont hors bornes pour cette étape.']],
  ['invalid_order', 422, ORDERS, ['Invalid order', 'The order cannot be placed as given (items, options, delivery area).'], ['Commande invalide', 'La commande ne peut pas être passée ainsi (plats, options, zone de livraison).']],
  ['restaurant_closed', 422, ORDERS, ['Restaurant closed', 'The restaurant is closed at the time of the order.'], ['Restaurant fermé', 'Le restaurant est fermé à l’heure de la commande.']],
  ['restaurant_not_active', 422, ORDERS, ['Restaurant not active', 'The restaurant does not take orders.'], ['Restaurant inactif', 'Le restaurant ne prend pas de commandes.']],
  ['outside_delivery_radius', 422, ORDERS, ['Too far to deliver', 'The delivery point is beyond the restaurant’s delivery radius or the city’s distance cap.'], ['Trop loin pour livrer', 'Le point de livraison est au-delà du rayon du restaurant ou de la distance maximale de la ville.']],
  ['outside_delivery_zone', 422, ORDERS, ['Not delivered here', 'The delivery point is outside the city’s delivery zones, or in a zone the platform does not deliver to.'], ['Zone non desservie', 'Le point de livraison est hors des zones de livraison de la ville, ou dans une zone non desservie.']],
  ['city_service_closed', 422, ORDERS, ['Service closed in this city', 'The platform does not take orders in this city now.'], ['Service fermé dans cette ville', 'La plateforme ne prend pas de commandes dans cette ville pour le moment.']],
  ['outside_service_hours', 422, ORDERS, ['Outside service hours', 'Orders in this city are taken during its service hours only.'], ['Hors des heures de service', 'Les commandes dans cette ville ne sont prises que pendant ses heures de service.']],
  ['below_minimum_order', 422, ORDERS, ['Below the minimum order', 'The food in the order is below the city’s minimum; `minimumOrderXaf` says how much.'], ['Sous le minimum de commande', 'Les plats de la commande sont sous le minimum de la ville ; `minimumOrderXaf` l’indique.']],
  ['items_unavailable', 422, ORDERS, ['Dishes unavailable', 'Some dishes are not available now; `items` lists them.'], ['Plats indisponibles', 'Certains plats ne sont pas disponibles ; `items` les liste.']],
  ['insufficient_stock', 409, ORDERS, ['Sold out', 'Some dishes sold out meanwhile; `insufficient` lists them.'], ['Épuisé', 'Certains plats sont épuisés entre-temps ; `insufficient` les liste.']],
  ['coupon_invalid', 422, ORDERS, ['Invalid coupon', 'The coupon code does not apply to this order.'], ['Coupon invalide', 'Le code promo ne s’applique pas à cette commande.']],
  ['coupon_exhausted', 422, ORDERS, ['Coupon used up', 'The coupon has been used as many times as it may be; nothing was charged.'], ['Coupon épuisé', 'Le code promo a atteint son nombre d’utilisations ; rien n’a été prélevé.']],
  ['coupon_customer_limit', 422, ORDERS, ['Coupon limit reached', 'You have used this coupon as many times as you may; nothing was charged.'], ['Limite du coupon atteinte', 'Vous avez utilisé ce code promo autant de fois que permis ; rien n’a été prélevé.']],
  ['invalid_coupon', 400, COUPONS, ['Invalid coupon definition', 'The coupon cannot be created as given; `problems` lists each field and why.'], ['Définition de coupon invalide', 'Le coupon ne peut pas être créé ainsi ; `problems` liste chaque champ et la raison.']],
  ['referral_code_unknown', 422, LOYALTY, ['Unknown referral code', 'No customer has this referral code; check it with the person who shared it. Nothing was recorded.'], ['Code de parrainage inconnu', 'Aucun client n’a ce code de parrainage ; vérifiez-le auprès de la personne qui l’a partagé. Rien n’a été enregistré.']],
  ['referral_self', 422, LOYALTY, ['Own referral code', 'A customer cannot be referred by their own code.'], ['Votre propre code', 'Un client ne peut pas être parrainé par son propre code.']],
  ['referral_already_claimed', 409, LOYALTY, ['Already referred', 'You were already referred with another code; a customer is referred once.'], ['Déjà parrainé', 'Vous avez déjà été parrainé avec un autre code ; un client n’est parrainé qu’une fois.']],
  ['referral_not_first_order', 422, LOYALTY, ['Not a new customer', 'A referral rewards a first order: you already completed one, so a code can no longer be entered.'], ['Pas un nouveau client', 'Le parrainage récompense une première commande : vous en avez déjà terminé une, un code ne peut plus être saisi.']],
  ['coupon_code_taken', 409, COUPONS, ['Coupon code taken', 'Another coupon already has this code; choose another.'], ['Code déjà pris', 'Un autre coupon a déjà ce code ; choisissez-en un autre.']],
  ['coupon_not_found', 404, COUPONS, ['Coupon not found', 'There is no such coupon (of yours).'], ['Coupon introuvable', 'Ce coupon n’existe pas (ou n’est pas le vôtre).']],
  ['invalid_promotion', 400, COUPONS, ['Invalid promotion', 'The promotion cannot be created as given; `problems` lists each field and why.'], ['Promotion invalide', 'La promotion ne peut pas être créée ainsi ; `problems` liste chaque champ et la raison.']],
  ['promotion_items_unknown', 422, COUPONS, ['Dishes not on the menu', 'Some `itemIds` are not dishes of the promotion’s restaurant; `unknownItemIds` lists them. Nothing was created.'], ['Plats hors du menu', 'Certains `itemIds` ne sont pas des plats du restaurant de la promotion ; `unknownItemIds` les liste. Rien n’a été créé.']],
  ['promotion_not_found', 404, COUPONS, ['Promotion not found', 'There is no such promotion (of yours).'], ['Promotion introuvable', 'Cette promotion n’existe pas (ou n’est pas la vôtre).']],
  ['points_insufficient', 422, ORDERS, ['Not enough points', 'The order asks for more loyalty points than you have available (`available`); nothing was held or charged.'], ['Points insuffisants', 'La commande demande plus de points de fidélité que vous n’en avez de disponibles (`available`) ; rien n’a été bloqué ni prélevé.']],
  ['points_over_cap', 422, ORDERS, ['Too many points', 'Points may pay only part of the food; `maxPoints` is the most this order takes.'], ['Trop de points', 'Les points ne paient qu’une partie des plats ; `maxPoints` est le maximum pour cette commande.']],
  ['free_delivery_taken', 409, ORDERS, ['Free delivery already used', 'Another order took your last free delivery of the month meanwhile; nothing was charged, place the order again to see its new price.'], ['Livraison gratuite déjà utilisée', 'Une autre commande a pris entre-temps votre dernière livraison gratuite du mois ; rien n’a été prélevé, repassez la commande pour voir son nouveau prix.']],
  ['payments_unavailable', 503, ORDERS, ['Payments unavailable', 'Payments are not configured on this server.'], ['Paiements indisponibles', 'Les paiements ne sont pas configurés sur ce serveur.']],
  ['invalid_cart_token', 400, ORDERS, ['Invalid cart token', 'The cart token is malformed; start a new cart.'], ['Jeton de panier invalide', 'Le jeton de panier est mal formé ; créez un nouveau panier.']],
  ['cart_other_restaurant', 409, [...ORDERS, ...COMMUNITY], ['Another restaurant', 'The cart holds dishes of another restaurant; empty it first.'], ['Autre restaurant', 'Le panier contient des plats d’un autre restaurant ; videz-le d’abord.']],
  ['cart_invalid', 422, [...ORDERS, ...COMMUNITY, ...BULK], ['Invalid cart', 'The cart change is not valid for this menu.'], ['Panier invalide', 'La modification du panier ne convient pas à ce menu.']],
  ['tracking_expired', 410, ORDERS, ['Tracking link expired', 'The order ended a while ago; the link no longer works.'], ['Lien de suivi expiré', 'La commande est terminée depuis un moment ; le lien ne marche plus.']],
  ['tracking_not_found', 404, ORDERS, ['Tracking link unknown', 'The tracking link is not valid.'], ['Lien de suivi inconnu', 'Le lien de suivi n’est pas valide.']],
  // Payments, wallet, payouts.
  ['payment_failed', 402, ['orders', ...PAYMENTS], ['Payment failed', 'The payment did not go through; `orderId` names the order (now PAYMENT_FAILED) and `reason` says why. Place a new order with another payment.'], ['Paiement échoué', 'Le paiement n’a pas abouti ; `orderId` nomme la commande (désormais PAYMENT_FAILED) et `reason` dit pourquoi. Passez une nouvelle commande avec un autre paiement.']],
  ['insufficient_funds', [402, 422], ['orders', ...PAYMENTS, ...BULK], ['Insufficient funds', 'The wallet balance is too low; top it up or pay by Mobile Money. Nothing was taken.'], ['Solde insuffisant', 'Le solde du portefeuille est trop bas ; rechargez-le ou payez par Mobile Money. Rien n’a été prélevé.']],
  ['limit_exceeded', [402, 422], ['orders', ...PAYMENTS], ['Spending limit reached', 'This payment would pass your daily or monthly wallet limit.'], ['Plafond atteint', 'Ce paiement dépasserait votre plafond journalier ou mensuel.']],
  ['wallet_frozen', [402, 422], ['orders', ...PAYMENTS, ...BULK], ['Wallet frozen', 'This wallet is frozen; contact support.'], ['Portefeuille gelé', 'Ce portefeuille est gelé ; contactez le support.']],
  ['category_restricted', [402, 422], ['orders', ...PAYMENTS], ['Category not allowed', 'This wallet may not pay for one of the order’s categories (its spending controls refuse it); `detail` names it. Nothing was taken.'], ['Catégorie non autorisée', 'Ce portefeuille ne peut pas payer l’une des catégories de la commande (ses contrôles de dépenses la refusent). Rien n’a été prélevé.']],
  ['category_limit_exceeded', [402, 422], ['orders', ...PAYMENTS], ['Category limit reached', 'This payment would pass this month’s limit for one of its categories; `detail` names it. Nothing was taken.'], ['Plafond de catégorie atteint', 'Ce paiement dépasserait le plafond mensuel de l’une de ses catégories. Rien n’a été prélevé.']],
  ['wallet_limit_exceeded', 422, PAYMENTS, ['Wallet limit exceeded', 'The amount passes a wallet limit.'], ['Plafond du portefeuille dépassé', 'Le montant dépasse un plafond du portefeuille.']],
  ['mobile_money_failed', 402, ['orders', ...PAYMENTS], ['Mobile Money failed', 'The Mobile Money payment failed or was declined on the phone.'], ['Échec Mobile Money', 'Le paiement Mobile Money a échoué ou a été refusé sur le téléphone.']],
  ['already_resolved', 409, PAYMENTS, ['Already resolved', 'This item was already resolved.'], ['Déjà traité', 'Cet élément a déjà été traité.']],
  ['auto_topup_currency', 422, PAYMENTS, ['Automatic top-up currency', 'Automatic top-up works for XAF wallets only.'], ['Devise de recharge automatique', 'La recharge automatique ne marche que pour les portefeuilles XAF.']],
  ['invalid_amount', 422, PAYMENTS, ['Invalid amount', 'The amount is out of the allowed range.'], ['Montant invalide', 'Le montant est hors des bornes permises.']],
  ['invalid_limits', 422, PAYMENTS, ['Invalid limits', 'Limits may only be lowered, and the daily one may not pass the monthly one.'], ['Plafonds invalides', 'Les plafonds ne peuvent que baisser, le journalier sous le mensuel.']],
  ['invalid_period', 422, [...PAYMENTS, ...DISPATCH, ...COUPONS, ...LEDGER, ...ORDERS], ['Invalid period', 'The period is malformed or too long.'], ['Période invalide', 'La période est mal formée ou trop longue.']],
  ['nothing_to_resolve', 409, PAYMENTS, ['Nothing to resolve', 'There is nothing to resolve here.'], ['Rien à régler', 'Il n’y a rien à régler ici.']],
  ['operator_mismatch', 422, ['orders', ...PAYMENTS], ['Wrong operator', 'The number belongs to another operator (`operator`).'], ['Mauvais opérateur', 'Le numéro appartient à un autre opérateur (`operator`).']],
  ['order_not_awaiting_payment', 409, PAYMENTS, ['Order not awaiting payment', 'The order is not waiting for a payment (`currentStatus`).'], ['Commande non en attente de paiement', 'La commande n’attend pas de paiement (`currentStatus`).']],
  ['order_not_pending', 409, PAYMENTS, ['Order not pending', 'The order is no longer pending.'], ['Commande plus en attente', 'La commande n’est plus en attente.']],
  ['payment_not_found', 404, PAYMENTS, ['Payment not found', 'There is no such payment of yours.'], ['Paiement introuvable', 'Ce paiement n’existe pas (ou n’est pas le vôtre).']],
  ['payment_provider_unavailable', 503, ['orders', ...PAYMENTS], ['Provider unavailable', 'No Mobile Money provider could take the payment; retry after `Retry-After` seconds.'], ['Opérateur indisponible', 'Aucun opérateur Mobile Money n’a pu prendre le paiement ; réessayez après `Retry-After` secondes.']],
  ['payment_provider_bad_response', 502, ['orders', ...PAYMENTS], ['Provider answer unreadable', 'The Mobile Money provider answered something we cannot read; retry later.'], ['Réponse illisible de l’opérateur', 'L’opérateur Mobile Money a répondu de façon illisible ; réessayez plus tard.']],
  ['payment_rejected', 422, ['orders', ...PAYMENTS], ['Payment rejected', 'The provider refused the payment request.'], ['Paiement refusé', 'L’opérateur a refusé la demande de paiement.']],
  ['commission_effective_past', 400, PAYMENTS, ['Effective date in the past', 'A commission change takes effect now or later: `effectiveFrom` may not be in the past.'], ['Date d’effet passée', 'Un changement de commission prend effet maintenant ou plus tard : `effectiveFrom` ne peut pas être passé.']],
  ['commission_effective_too_far', 400, PAYMENTS, ['Effective date too far', 'A commission change may be scheduled at most a year ahead.'], ['Date d’effet trop lointaine', 'Un changement de commission se planifie au plus un an à l’avance.']],
  ['commission_unchanged', 409, PAYMENTS, ['Commission unchanged', 'This rate is already the one in force at that moment; nothing was changed.'], ['Commission inchangée', 'Ce taux est déjà celui en vigueur à ce moment ; rien n’a changé.']],
  ['commission_change_in_force', 409, PAYMENTS, ['Change already in force', 'This commission change has taken effect and can no longer be cancelled; set a new rate instead.'], ['Changement déjà en vigueur', 'Ce changement de commission a pris effet et ne peut plus être annulé ; fixez un nouveau taux.']],
  ['payout_held', 409, PAYMENTS, ['Payouts on hold', 'A fraud review or an admin’s hold stops this payee’s payouts and withdrawals; nothing was requested or sent. An admin’s decision releases the hold.'], ['Versements bloqués', 'Un examen pour fraude ou un blocage administratif arrête les versements et retraits de ce bénéficiaire ; rien n’a été demandé ni envoyé. La décision d’un administrateur lève le blocage.']],
  ['payout_not_found', 404, PAYMENTS, ['Payout not found', 'There is no such payout.'], ['Versement introuvable', 'Ce versement n’existe pas.']],
  ['payout_not_requested', 409, PAYMENTS, ['Payout not awaiting a decision', 'The payout is not waiting for approval.'], ['Versement non en attente', 'Le versement n’attend pas de décision.']],
  ['payout_phone_unverified', 422, PAYMENTS, ['Payout number unverified', 'Verify the payout phone number first.'], ['Numéro de versement non vérifié', 'Vérifiez d’abord le numéro de versement.']],
  ['payout_too_small', 422, PAYMENTS, ['Payout too small', 'The amount is below the minimum payout.'], ['Versement trop petit', 'Le montant est sous le versement minimum.']],
  ['payouts_unavailable', 503, PAYMENTS, ['Payouts unavailable', 'Payouts are not possible now; retry later.'], ['Versements indisponibles', 'Les versements sont impossibles pour l’instant ; réessayez plus tard.']],
  ['reconciliation_item_not_found', 404, PAYMENTS, ['Item not found', 'There is no such reconciliation item.'], ['Élément introuvable', 'Cet élément de rapprochement n’existe pas.']],
  ['reconciliation_run_not_found', 404, PAYMENTS, ['Run not found', 'There is no such reconciliation run.'], ['Rapprochement introuvable', 'Ce rapprochement n’existe pas.']],
  ['unknown_provider', 404, PAYMENTS, ['Unknown provider', 'There is no such payment provider.'], ['Opérateur inconnu', 'Cet opérateur de paiement n’existe pas.']],
  ['unsupported_phone', 422, ['orders', ...PAYMENTS], ['Unsupported number', 'Give an MTN or Orange Mobile Money number from Cameroon.'], ['Numéro non pris en charge', 'Donnez un numéro Mobile Money MTN ou Orange du Cameroun.']],
  ['webhook_signature_invalid', 401, PAYMENTS, ['Invalid webhook signature', 'The webhook is not signed by the provider.'], ['Signature de webhook invalide', 'Le webhook n’est pas signé par l’opérateur.']],
  // Card funding (issue #28, docs/payments.md "Card funding").
  ['card_funding_unavailable', [503, 404], PAYMENTS, ['Card funding unavailable', 'Card funding is not configured here.'], ['Financement par carte indisponible', 'Le financement par carte n’est pas configuré ici.']],
  ['card_provider_unavailable', 503, PAYMENTS, ['Card provider unavailable', 'The card provider cannot be reached; retry after `Retry-After` seconds. Nothing was charged.'], ['Prestataire carte indisponible', 'Le prestataire de cartes est injoignable ; réessayez après `Retry-After` secondes. Rien n’a été débité.']],
  ['card_provider_bad_response', 502, PAYMENTS, ['Card provider answer unreadable', 'The card provider answered something we cannot read; retry later.'], ['Réponse illisible du prestataire carte', 'Le prestataire de cartes a répondu quelque chose d’illisible ; réessayez plus tard.']],
  ['card_funding_limit_exceeded', 422, PAYMENTS, ['Card funding limit', 'The amount passes a card funding limit (`limit`: per_funding, funder_daily or recipient_daily; `maxMinor`).'], ['Plafond de financement par carte', 'Le montant dépasse un plafond du financement par carte (`limit`, `maxMinor`).']],
  ['card_funding_not_found', 404, PAYMENTS, ['Card funding not found', 'There is no such card funding of yours.'], ['Financement introuvable', 'Ce financement par carte n’existe pas (ou ne vous concerne pas).']],
  ['funding_recipient_unknown', 422, PAYMENTS, ['Unknown recipient', 'No customer with a verified phone can receive card funding at this number.'], ['Destinataire inconnu', 'Aucun client au numéro vérifié ne peut recevoir de financement à ce numéro.']],
  ['recipient_consent_required', 409, PAYMENTS, ['Recipient consent required', 'The recipient must first accept funding from you; they were asked in their wallet. Retry once they accepted.'], ['Accord du destinataire requis', 'Le destinataire doit d’abord accepter votre financement ; la demande lui a été faite. Réessayez après son accord.']],
  ['funding_refused_by_recipient', 403, PAYMENTS, ['Funding refused', 'This customer does not accept funding from you.'], ['Financement refusé', 'Ce client n’accepte pas de financement de votre part.']],
  ['funding_consent_not_found', 404, PAYMENTS, ['No such funding request', 'This person never asked to fund your wallet.'], ['Demande introuvable', 'Cette personne n’a jamais demandé à financer votre portefeuille.']],
  ['card_funding_not_refundable', 409, PAYMENTS, ['Not refundable', 'Only a credited card funding can be refunded.'], ['Non remboursable', 'Seul un financement par carte crédité peut être remboursé.']],
  ['card_refund_exceeds_funding', 422, PAYMENTS, ['Refund too large', 'This is more than is left of the funding to refund (`leftMinor`).'], ['Remboursement trop élevé', 'C’est plus que ce qui reste du financement à rembourser (`leftMinor`).']],
  ['card_refund_exceeds_wallet', 422, PAYMENTS, ['Wallet holds less', 'The wallet no longer holds this much (`walletAvailableMinor`); refund at most what it holds.'], ['Portefeuille insuffisant', 'Le portefeuille ne détient plus ce montant (`walletAvailableMinor`) ; remboursez au plus ce qu’il détient.']],
  ['card_refund_refused', 422, PAYMENTS, ['Refund refused', 'The card provider refused this refund; nothing moved.'], ['Remboursement refusé', 'Le prestataire de cartes a refusé ce remboursement ; rien n’a bougé.']],
  ['card_refund_not_in_review', 409, PAYMENTS, ['Refund not in review', 'Only a refund whose answer from the card provider was lost can be resolved.'], ['Remboursement hors revue', 'Seul un remboursement dont la réponse du prestataire a été perdue peut être tranché.']],
  ['card_refund_outcome_unknown', 409, PAYMENTS, ['Refund outcome unknown', 'This refund was asked of the card provider and its answer was lost; finance checks the provider before anything else moves (`reversalId`).'], ['Issue du remboursement inconnue', 'Ce remboursement a été demandé au prestataire et sa réponse perdue ; la finance vérifie chez le prestataire (`reversalId`).']],
  ['funded_wallet_not_found', 404, PAYMENTS, ['Not a wallet you fund', 'This person has not accepted funding from you.'], ['Portefeuille non financé', 'Cette personne n’a pas accepté votre financement.']],
  ['category_controls_set_by_funder', 409, PAYMENTS, ['Controls set by your funder', 'The person who funds this wallet set its spending controls; they can change them, or you can stop their funding.'], ['Contrôles fixés par votre financeur', 'La personne qui finance ce portefeuille a fixé ses contrôles ; elle peut les changer, ou vous pouvez arrêter son financement.']],
  // Currency conversion (issue #28, docs/payments.md).
  ['fx_unavailable', 503, PAYMENTS, ['Exchange rate unavailable', 'No exchange rate can be had now; retry after `Retry-After` seconds. Nothing was converted.'], ['Taux de change indisponible', 'Aucun taux de change n’est disponible ; réessayez après `Retry-After` secondes. Rien n’a été converti.']],
  ['fx_quote_not_found', 404, PAYMENTS, ['Quote not found', 'There is no such conversion quote of yours.'], ['Cotation introuvable', 'Cette cotation de conversion n’existe pas (ou n’est pas la vôtre).']],
  ['fx_quote_expired', 422, PAYMENTS, ['Quote expired', 'The quote passed its `expiresAt` before it was accepted; ask a new one. Nothing was converted.'], ['Cotation expirée', 'La cotation a expiré avant d’être acceptée ; demandez-en une nouvelle. Rien n’a été converti.']],
  ['fx_amount_too_small', 422, PAYMENTS, ['Amount too small', 'This amount converts to less than one franc after the spread.'], ['Montant trop faible', 'Ce montant vaut moins d’un franc après la marge.']],
  // Files (src/modules/files, docs/files.md).
  ['multipart_required', 415, FILES, ['Multipart required', 'Send the upload as multipart/form-data: the fields, then one part named `file`.'], ['Multipart requis', 'Envoyez le fichier en multipart/form-data : les champs, puis une partie nommée `file`.']],
  ['multipart_malformed', 400, FILES, ['Malformed multipart', 'The multipart body cannot be read (boundary, headers or an early end).'], ['Multipart mal formé', 'Le corps multipart est illisible (délimiteur, en-têtes ou fin prématurée).']],
  ['too_many_files', 400, FILES, ['Too many files', 'One upload carries one file; send each file in its own request.'], ['Trop de fichiers', 'Un envoi porte un seul fichier ; envoyez chaque fichier dans sa propre requête.']],
  ['too_many_fields', 400, FILES, ['Too many fields', 'The form has more fields or parts than an upload takes.'], ['Trop de champs', 'Le formulaire a plus de champs ou de parties qu’un envoi n’en accepte.']],
  ['field_too_long', 400, FILES, ['Field too long', 'A form field or its name is longer than allowed.'], ['Champ trop long', 'Un champ du formulaire, ou son nom, dépasse la longueur permise.']],
  ['field_repeated', 400, FILES, ['Field repeated', 'A form field was sent twice (`field`).'], ['Champ répété', 'Un champ du formulaire a été envoyé deux fois (`field`).']],
  ['field_unknown', 400, FILES, ['Unknown field', 'This purpose takes no such field (`field`; `expected` lists those it takes).'], ['Champ inconnu', 'Cet usage ne prend pas ce champ (`field` ; `expected` liste ceux qu’il prend).']],
  ['field_missing', 400, FILES, ['Field missing', 'This purpose needs the field `field`.'], ['Champ manquant', 'Cet usage exige le champ `field`.']],
  ['field_invalid', 400, FILES, ['Invalid field', 'The field `field` is not valid (`expected` says what is).'], ['Champ invalide', 'Le champ `field` n’est pas valide (`expected` dit ce qui l’est).']],
  ['purpose_missing', 400, FILES, ['Purpose missing', 'Send a `purpose` field (`allowed` lists them).'], ['Usage manquant', 'Envoyez un champ `purpose` (`allowed` les liste).']],
  ['purpose_invalid', 400, FILES, ['Unknown purpose', 'The `purpose` is not one of `allowed`.'], ['Usage inconnu', 'Le champ `purpose` n’est pas l’un de `allowed`.']],
  ['file_missing', 400, FILES, ['File missing', 'The form has no part named `file`.'], ['Fichier manquant', 'Le formulaire n’a pas de partie nommée `file`.']],
  ['file_empty', 400, FILES, ['Empty file', 'The file has no bytes.'], ['Fichier vide', 'Le fichier ne contient aucun octet.']],
  ['file_too_large', 413, FILES, ['File too large', 'The file is larger than this purpose takes (`maxBytes`).'], ['Fichier trop volumineux', 'Le fichier dépasse la taille acceptée pour cet usage (`maxBytes`).']],
  ['file_type_unknown', 422, FILES, ['Unknown file type', 'The bytes are none of the types this upload takes (`allowed`); the name and the header do not count.'], ['Type de fichier inconnu', 'Les octets ne sont d’aucun type accepté (`allowed`) ; le nom et l’en-tête ne comptent pas.']],
  ['file_type_not_allowed', 422, FILES, ['File type not allowed', 'The bytes are a `detected` file, which this purpose does not take (`allowed`).'], ['Type de fichier refusé', 'Les octets sont un fichier `detected`, que cet usage ne prend pas (`allowed`).']],
  ['file_polyglot', 422, FILES, ['Two files in one', 'The file is also another format (`found`), e.g. a PDF or HTML appended to an image; upload the file alone.'], ['Deux fichiers en un', 'Le fichier est aussi un autre format (`found`), p. ex. un PDF ou du HTML ajouté à une image ; envoyez le fichier seul.']],
  ['pdf_invalid', 422, FILES, ['Invalid PDF', 'The PDF lacks its `%PDF-` header or its `%%EOF` end (`reason`): it is truncated or not a PDF.'], ['PDF invalide', 'Le PDF n’a pas son en-tête `%PDF-` ou sa fin `%%EOF` (`reason`) : il est tronqué ou n’est pas un PDF.']],
  ['pdf_active_content', 422, FILES, ['PDF with active content', 'The PDF carries scripts, actions or embedded files (`found`); print it to PDF again.'], ['PDF à contenu actif', 'Le PDF contient des scripts, des actions ou des fichiers joints (`found`) ; réimprimez-le en PDF.']],
  ['image_undecodable', 422, FILES, ['Image cannot be decoded', 'The image does not decode (`reason`): truncated, corrupt, or a format this server cannot read.'], ['Image illisible', 'L’image ne se décode pas (`reason`) : tronquée, corrompue ou d’un format que ce serveur ne lit pas.']],
  ['image_too_many_pixels', 422, FILES, ['Too many pixels', 'The image claims more pixels than accepted (`width`, `height`, `maxPixels`); resize it.'], ['Trop de pixels', 'L’image annonce plus de pixels qu’accepté (`width`, `height`, `maxPixels`) ; réduisez-la.']],
  ['file_infected', 422, FILES, ['File refused by the virus scan', 'The virus scanner found something in the file; nothing was stored.'], ['Fichier refusé par l’antivirus', 'L’antivirus a trouvé quelque chose dans le fichier ; rien n’a été enregistré.']],
  ['not_a_driver', 403, [...FILES, ...DISPATCH], ['Drivers only', 'Only an account with the driver role may do this (driver documents, shifts, positions), for itself.'], ['Réservé aux livreurs', 'Seul un compte ayant le rôle livreur peut le faire (documents de livreur, service, position), pour lui-même.']],
  ['order_state_refuses_file', 409, FILES, ['Not at this stage', 'The order’s status (`orderStatus`) takes no such file now (`allowed` lists the statuses that do).'], ['Pas à cette étape', 'Le statut de la commande (`orderStatus`) ne prend pas ce fichier maintenant (`allowed` liste ceux qui le prennent).']],
  ['file_not_found', 404, FILES, ['File not found', 'There is no such file, or it is not yours to see.'], ['Fichier introuvable', 'Ce fichier n’existe pas ou ne vous est pas visible.']],
  ['file_in_use', 409, FILES, ['Photo in use', 'A photo is replaced by uploading another, not deleted.'], ['Photo utilisée', 'Une photo se remplace en en envoyant une autre, elle ne se supprime pas.']],
  ['signed_url_invalid', 403, FILES, ['Invalid link', 'The file link is not one this API signed, or was altered.'], ['Lien invalide', 'Ce lien de fichier n’a pas été signé par cette API, ou a été modifié.']],
  ['signed_url_expired', 403, FILES, ['Link expired', 'The file link has expired; ask for the file again for a fresh link.'], ['Lien expiré', 'Ce lien de fichier a expiré ; redemandez le fichier pour un nouveau lien.']],
  // Ledger.
  ['amount_out_of_range', 500, LEDGER, ['Amount out of range', 'An amount passed the ledger’s range.'], ['Montant hors bornes', 'Un montant dépasse les bornes du grand livre.']],
  // Notifications (intents, devices, the in-app centre, dead letters).
  ['notification_not_found', 404, NOTIFY, ['Notification not found', 'There is no such notification among yours.'], ['Notification introuvable', 'Cette notification n’existe pas parmi les vôtres.']],
  ['device_not_found', 404, NOTIFY, ['Device not found', 'There is no such device among yours.'], ['Appareil introuvable', 'Cet appareil n’existe pas parmi les vôtres.']],
  ['receipt_signature_invalid', 403, ['webhooks'], ['Invalid receipt signature', 'The delivery receipt is not signed by the SMS provider (X-Twilio-Signature).'], ['Signature d’accusé invalide', 'L’accusé de remise n’est pas signé par l’opérateur SMS (X-Twilio-Signature).']],
  ['receipt_token_invalid', 403, ['webhooks'], ['Invalid callback token', 'The delivery report does not carry this service’s callback token (the `token` of the URL registered with Africa’s Talking).'], ['Jeton de rappel invalide', 'Le rapport de remise ne porte pas le jeton de rappel de ce service (le `token` de l’URL enregistrée chez Africa’s Talking).']],
  ['stats_period_invalid', 400, NOTIFY, ['Invalid period', '`from` must be a date-time before `to`, at most 93 days apart.'], ['Période invalide', '`from` doit être une date antérieure à `to`, au plus 93 jours avant.']],
  ['community_notice_invalid', 400, NOTIFY, ['Invalid community notice', 'A group cart or bulk order notice names a cart, a request, an order or a person that is no UUID.'], ['Avis de commande groupée invalide', 'Un avis de panier groupé ou de commande en gros désigne un panier, une demande, une commande ou une personne qui n’est pas un UUID.']],
  ['support_notice_invalid', 400, NOTIFY, ['Invalid support notice', 'A support notice names a ticket, a message or a person that is no UUID.'], ['Avis du support invalide', 'Un avis du support désigne un ticket, un message ou une personne qui n’est pas un UUID.']],
  ['driver_offer_invalid', 400, NOTIFY, ['Invalid driver offer', 'The offer to tell a driver of is incomplete or already lapsed.'], ['Offre de course invalide', 'L’offre à annoncer au livreur est incomplète ou déjà expirée.']],
  ['order_eta_invalid', 400, NOTIFY, ['Invalid ETA notice', 'The ETA to tell of names no order, customer or time.'], ['Avis d’heure d’arrivée invalide', 'L’heure d’arrivée à annoncer ne nomme ni commande, ni client, ni heure.']],
  ['driver_emergency_invalid', 400, NOTIFY, ['Invalid emergency alert', 'The emergency names no report or driver.'], ['Alerte d’urgence invalide', 'L’urgence ne nomme ni signalement ni livreur.']],
  ['driver_speed_warning_invalid', 400, NOTIFY, ['Invalid speed warning', 'The speed warning names no alert, driver or order, or its speed is below the limit.'], ['Alerte de vitesse invalide', 'L’alerte de vitesse ne nomme ni alerte, ni livreur, ni commande, ou sa vitesse est sous la limite.']],
  ['driver_reminder_invalid', 400, NOTIFY, ['Invalid driver reminder', 'The reminder names no driver.'], ['Rappel de livreur invalide', 'Le rappel ne nomme aucun livreur.']],
  ['driver_arrival_invalid', 400, NOTIFY, ['Invalid driver arrival', 'The arrival to tell of names no order, customer or restaurant, or no known fence.'], ['Arrivée de livreur invalide', 'L’arrivée à annoncer ne nomme ni commande, ni client, ni restaurant, ou aucune zone connue.']],
  ['too_many_devices', 422, NOTIFY, ['Too many devices', 'An account registers at most 10 devices; remove one first.'], ['Trop d’appareils', 'Un compte enregistre au plus 10 appareils ; retirez-en un d’abord.']],
  ['time_zone_unknown', 400, IDENTITY, ['Unknown time zone', 'The quiet hours name a time zone this server does not know (use an IANA name such as Africa/Douala).'], ['Fuseau horaire inconnu', 'Les heures calmes nomment un fuseau horaire inconnu (utilisez un nom IANA comme Africa/Douala).']],
  ['quiet_hours_empty', 400, IDENTITY, ['Empty quiet hours', 'Quiet hours start and end at the same time; send null for none.'], ['Heures calmes vides', 'Les heures calmes commencent et finissent à la même heure ; envoyez null pour aucune.']],
  // Dispatch: drivers' shifts and positions.
  ['driver_offline', 409, DISPATCH, ['Driver offline', 'Go online (PUT /v1/drivers/me/availability) before sending positions.'], ['Livreur hors ligne', 'Passez en ligne (PUT /v1/drivers/me/availability) avant d’envoyer votre position.']],
  ['location_invalid', 400, DISPATCH, ['Invalid position', 'Latitude or longitude is out of range, or the accuracy is coarser than this server accepts.'], ['Position invalide', 'La latitude ou la longitude est hors limites, ou la précision est plus grossière que ce que le serveur accepte.']],
  ['location_in_future', 400, DISPATCH, ['Position from the future', '`recordedAt` is later than the server’s clock; check the phone’s time.'], ['Position du futur', '`recordedAt` est postérieur à l’horloge du serveur ; vérifiez l’heure du téléphone.']],
  ['location_too_old', 400, DISPATCH, ['Position too old', 'The position was measured too long ago to be used; send a fresh one.'], ['Position trop ancienne', 'La position a été mesurée il y a trop longtemps ; envoyez-en une récente.']],
  ['location_out_of_order', 409, DISPATCH, ['Position out of order', 'The position is not later than the last one accepted.'], ['Position dans le désordre', 'La position n’est pas postérieure à la dernière acceptée.']],
  ['location_too_frequent', 429, DISPATCH, ['Positions too frequent', 'A position was accepted moments ago; send the next after `Retry-After` seconds.'], ['Positions trop fréquentes', 'Une position vient d’être acceptée ; envoyez la suivante après `Retry-After` secondes.']],
  ['location_impossible_speed', 422, DISPATCH, ['Impossible speed', 'The position implies a speed no vehicle of this kind reaches since the last one; it is flagged for review and not used.'], ['Vitesse impossible', 'La position implique une vitesse qu’aucun véhicule de ce type n’atteint depuis la précédente ; elle est signalée pour contrôle et non utilisée.']],
  // Dispatch: onboarding, earnings and safety (docs/dispatch.md).
  ['application_not_found', 404, DISPATCH, ['No application', 'There is no application to drive for this user.'], ['Aucune candidature', 'Il n’y a pas de candidature de livreur pour cet utilisateur.']],
  ['application_document_missing', 400, DISPATCH, ['Document missing', 'The application needs this document (`kind`) for the vehicle.'], ['Document manquant', 'La candidature exige ce document (`kind`) pour ce véhicule.']],
  ['application_field_missing', 400, DISPATCH, ['Field missing', 'A motorbike or car needs its plate and the expiry of its insurance (`field`).'], ['Champ manquant', 'Une moto ou une voiture exige sa plaque et l’échéance de son assurance (`field`).']],
  ['application_document_expired', 422, DISPATCH, ['Document expired', 'The licence or insurance (`field`) has expired or expires today.'], ['Document expiré', 'Le permis ou l’assurance (`field`) a expiré ou expire aujourd’hui.']],
  ['application_document_invalid', 422, DISPATCH, ['Invalid document', 'The file is not one of your driver documents of that kind (`documentKind`).'], ['Document invalide', 'Ce fichier n’est pas l’un de vos documents de livreur de ce type (`documentKind`).']],
  ['application_already_approved', 409, DISPATCH, ['Already approved', 'You are already an approved driver.'], ['Déjà approuvé', 'Vous êtes déjà un livreur approuvé.']],
  ['application_not_pending', 409, DISPATCH, ['Not pending', 'Only a pending application is reviewed (`applicationStatus`).'], ['Pas en attente', 'Seule une candidature en attente se révise (`applicationStatus`).']],
  ['background_check_required', 409, DISPATCH, ['Background check required', 'Set the background check to clear before approving.'], ['Vérification requise', 'Passez la vérification d’antécédents à « clear » avant d’approuver.']],
  ['driver_not_approved', 403, DISPATCH, ['Not an approved driver', 'Only a driver whose application was approved goes on shift.'], ['Livreur non approuvé', 'Seul un livreur dont la candidature est approuvée peut prendre son service.']],
  ['driver_fee_not_reversible', 409, DISPATCH, ['Fee not reversible', 'Only the fee of a delivered order whose dispute was resolved is reversed (`orderStatus`).'], ['Rémunération non annulable', 'Seule la rémunération d’une commande livrée dont le litige est tranché s’annule (`orderStatus`).']],
  ['driver_fee_not_booked', 409, DISPATCH, ['No driver fee booked', 'The ledger booked no driver fee for this order (not delivered, or its statement has not caught up: try again shortly).'], ['Aucune rémunération comptabilisée', 'Le grand livre n’a comptabilisé aucune rémunération de livreur pour cette commande (non livrée, ou relevé en retard : réessayez bientôt).']],
  ['driver_balance_insufficient', 409, DISPATCH, ['Driver balance insufficient', 'The driver no longer holds the fee (`amountMinor`): nothing was reversed; ask again once they do.'], ['Solde du livreur insuffisant', 'Le livreur ne détient plus cette rémunération (`amountMinor`) : rien n’a été annulé ; redemandez quand il la détiendra.']],
  ['maintenance_plan_invalid', 422, DISPATCH, ['Invalid maintenance plan', 'The plan is inconsistent (`field`): a due date in the past, a mileage interval without the last service, or an odometer below it.'], ['Plan d’entretien invalide', 'Le plan est incohérent (`field`) : une date passée, un intervalle sans dernier entretien, ou un compteur inférieur à celui-ci.']],
  ['driver_documents_expired', 409, DISPATCH, ['Documents expired', 'Your licence or insurance has expired: renew it and apply again.'], ['Documents expirés', 'Votre permis ou votre assurance a expiré : renouvelez-le et candidatez à nouveau.']],
  ['vehicle_not_approved', 422, DISPATCH, ['Vehicle not approved', 'Go on shift with the vehicle your application was approved for (`approvedVehicle`), or apply again.'], ['Véhicule non approuvé', 'Prenez votre service avec le véhicule approuvé dans votre candidature (`approvedVehicle`), ou candidatez à nouveau.']],
  ['incentive_rule_invalid', 400, DISPATCH, ['Invalid incentive rule', 'The rule lacks a field its kind needs, or its window is wrong.'], ['Règle de prime invalide', 'Il manque à la règle un champ requis par son type, ou sa période est fausse.']],
  ['incentive_rule_not_found', 404, DISPATCH, ['Rule not found', 'There is no such incentive rule.'], ['Règle introuvable', 'Cette règle de prime n’existe pas.']],
  ['incident_photo_invalid', 422, DISPATCH, ['Invalid photo', 'A photo (`fileId`) is not a file you uploaded.'], ['Photo invalide', 'Une photo (`fileId`) n’est pas un fichier que vous avez envoyé.']],
  ['delivery_photo_required', 422, DISPATCH, ['Delivery photo required', 'A delivery, delivered or failed, needs a delivery photo of this order that you uploaded (POST /v1/files, purpose delivery_photo), as `photoFileId`.'], ['Photo de livraison requise', 'Une livraison, réussie ou non, exige une photo de livraison de cette commande que vous avez envoyée (POST /v1/files, usage delivery_photo), en `photoFileId`.']],
  ['delivery_proof_invalid', 422, DISPATCH, ['Invalid delivery proof', 'The file (`field`) is not a clean delivery photo or signature of this order that you uploaded.'], ['Preuve de livraison invalide', 'Le fichier (`field`) n’est pas une photo ou une signature de livraison saine de cette commande que vous avez envoyée.']],
  ['report_not_found', 404, DISPATCH, ['Report not found', 'There is no such safety report.'], ['Signalement introuvable', 'Ce signalement n’existe pas.']],
  // Offers and dispatch (src/modules/dispatch, docs/dispatch.md "Matching and offers").
  ['offer_not_found', 404, DISPATCH, ['Offer not found', 'There is no such offer.'], ['Offre introuvable', 'Cette offre n’existe pas.']],
  ['offer_not_yours', 403, DISPATCH, ['Not your offer', 'This offer was made to another driver.'], ['Offre d’un autre', 'Cette offre a été faite à un autre livreur.']],
  ['offer_expired', 409, DISPATCH, ['Offer expired', 'The offer’s time ran out; the order went to another driver.'], ['Offre expirée', 'Le délai de l’offre est passé ; la commande est allée à un autre livreur.']],
  ['offer_closed', 409, DISPATCH, ['Offer closed', 'The offer was already declined or withdrawn.'], ['Offre close', 'L’offre a déjà été refusée ou retirée.']],
  ['order_taken', 409, DISPATCH, ['Order taken', 'The order was claimed by someone else or cancelled meanwhile.'], ['Commande prise', 'La commande a été prise par quelqu’un d’autre ou annulée entre-temps.']],
  ['dispatch_busy', 409, DISPATCH, ['Offer open', 'An offer for this order is still open.'], ['Offre en cours', 'Une offre pour cette commande est encore ouverte.']],
  ['dispatch_closed', 409, DISPATCH, ['Dispatch over', 'This order is no longer being offered to drivers.'], ['Attribution terminée', 'Cette commande n’est plus proposée aux livreurs.']],
  ['dispatch_not_retryable', 409, DISPATCH, ['Dispatch not retryable', 'Only a failed dispatch of an order that still waits for a driver is started again.'], ['Relance impossible', 'Seule une attribution échouée d’une commande qui attend encore un livreur peut être relancée.']],
  ['dispatch_not_found', 404, DISPATCH, ['No dispatch', 'This order was never offered to drivers.'], ['Aucune attribution', 'Cette commande n’a jamais été proposée aux livreurs.']],
  ['eta_not_found', 404, DISPATCH, ['No ETA', 'This order has no estimated arrival yet.'], ['Pas d’heure d’arrivée', 'Cette commande n’a pas encore d’heure d’arrivée estimée.']],
  // Support tickets (src/modules/support, docs/support.md).
  ['ticket_not_found', 404, SUPPORT, ['Ticket not found', 'There is no such ticket among those you may see.'], ['Ticket introuvable', 'Ce ticket n’existe pas ou ne vous est pas visible.']],
  ['text_blank', 400, [...SUPPORT, ...COMMUNITY], ['Blank text', 'The `field` holds only spaces; write something.'], ['Texte vide', 'Le champ `field` ne contient que des espaces ; écrivez quelque chose.']],
  ['opener_role_required', 403, SUPPORT, ['Not a ticket opener', 'Tickets are opened by customers, restaurant owners and drivers.'], ['Ouverture de ticket impossible', 'Les tickets sont ouverts par les clients, les restaurateurs et les livreurs.']],
  ['too_many_attachments', 400, SUPPORT, ['Too many attachments', 'A message carries at most `max` attachments.'], ['Trop de pièces jointes', 'Un message porte au plus `max` pièces jointes.']],
  ['attachment_not_found', 422, SUPPORT, ['Attachment not found', 'An attachment (`fileId`) is no file you may read; upload it first.'], ['Pièce jointe introuvable', 'Une pièce jointe (`fileId`) n’est pas un fichier que vous pouvez lire ; envoyez-le d’abord.']],
  ['internal_note_staff_only', 403, SUPPORT, ['Staff only', 'Only support staff write internal notes.'], ['Réservé au support', 'Seul le support écrit des notes internes.']],
  ['ticket_not_writable', 409, SUPPORT, ['Ticket not open', 'The ticket (`ticketStatus`) takes no message or change now; reopen it first.'], ['Ticket fermé', 'Le ticket (`ticketStatus`) n’accepte ni message ni changement ; rouvrez-le d’abord.']],
  ['message_not_found', 404, SUPPORT, ['Message not found', 'There is no such message (`messageId`) on this ticket among those you may see.'], ['Message introuvable', 'Il n’y a pas de tel message (`messageId`) sur ce ticket parmi ceux que vous pouvez voir.']],
  ['chat_not_allowed', 403, SUPPORT, ['Chat not allowed', 'This connection does not identify a person who may chat on this endpoint.'], ['Discussion refusée', 'Cette connexion n’identifie personne qui puisse discuter sur ce point d’accès.']],
  ['article_not_found', 404, SUPPORT, ['Article not found', 'There is no such help article in this language among those you may see.'], ['Article introuvable', 'Il n’y a pas de tel article d’aide dans cette langue parmi ceux que vous pouvez voir.']],
  ['article_slug_taken', 409, SUPPORT, ['Slug taken', 'An article with this `slug` exists in this `locale`; change it instead.'], ['Identifiant pris', 'Un article avec ce `slug` existe dans cette langue (`locale`) ; modifiez-le plutôt.']],
  ['article_changed', 409, SUPPORT, ['Article changed', 'The article changed meanwhile (now `version`); reload it and retry.'], ['Article modifié', 'L’article a changé entre-temps (maintenant `version`) ; rechargez-le puis réessayez.']],
  ['message_text_required', 400, SUPPORT, ['Text required', 'Send `body`, or (staff) `cannedResponseId`.'], ['Texte requis', 'Envoyez `body` ou (support) `cannedResponseId`.']],
  ['message_text_ambiguous', 400, SUPPORT, ['Two texts', 'Send `body` or `cannedResponseId`, not both.'], ['Deux textes', 'Envoyez `body` ou `cannedResponseId`, pas les deux.']],
  ['canned_response_staff_only', 403, SUPPORT, ['Staff only', 'Only support staff send canned responses.'], ['Réservé au support', 'Seul le support envoie des réponses types.']],
  ['canned_response_not_found', 404, SUPPORT, ['Canned response not found', 'There is no such canned response, or it is archived.'], ['Réponse type introuvable', 'Cette réponse type n’existe pas ou est archivée.']],
  ['canned_shortcut_taken', 409, SUPPORT, ['Shortcut taken', 'A canned response with this `shortcut` exists in this `locale`; change it instead.'], ['Raccourci pris', 'Une réponse type avec ce `shortcut` existe dans cette langue (`locale`) ; modifiez-la plutôt.']],
  ['canned_changed', 409, SUPPORT, ['Canned response changed', 'The canned response changed meanwhile (now `version`); reload it and retry.'], ['Réponse type modifiée', 'La réponse type a changé entre-temps (maintenant `version`) ; rechargez-la puis réessayez.']],
  ['canned_responses_full', 409, SUPPORT, ['Too many canned responses', 'A language holds at most `max` canned responses; archive or change one.'], ['Trop de réponses types', 'Une langue compte au plus `max` réponses types ; archivez-en ou modifiez-en une.']],
  ['remedy_amount_invalid', 400, SUPPORT, ['Invalid remedy amount', 'A goodwill credit or refund names `amountMinor` (whole XAF, at least 1); a mediation note moves no money.'], ['Montant de geste invalide', 'Un geste commercial ou un remboursement indique `amountMinor` (XAF entiers, au moins 1) ; une note de médiation ne déplace pas d’argent.']],
  ['remedy_shares_invalid', 400, SUPPORT, ['Invalid shares', 'A refund’s restaurant, driver and platform shares are whole XAF adding up to its amount (a driver’s share needs a driver); other remedies have none.'], ['Parts invalides', 'Les parts du restaurant, du livreur et de la plateforme d’un remboursement sont des XAF entiers dont la somme fait le montant (une part livreur suppose un livreur) ; les autres gestes n’en ont pas.']],
  ['remedy_limit_exceeded', 403, SUPPORT, ['Above your limit', 'You may grant at most `limitMinor` XAF in one remedy; a supervisor decides larger ones.'], ['Au-delà de votre plafond', 'Vous accordez au plus `limitMinor` XAF par geste ; un superviseur décide des montants supérieurs.']],
  ['remedy_not_applicable', 409, SUPPORT, ['Remedy not applicable', 'This remedy does not apply to this ticket (a refund needs a delivered order; a goodwill credit goes to a customer).'], ['Geste non applicable', 'Ce geste ne s’applique pas à ce ticket (un remboursement suppose une commande livrée ; un geste commercial va à un client).']],
  ['refund_exceeds_order', 422, SUPPORT, ['Refund above the order', 'At most `refundableMinor` XAF of this order is still refundable (its total, less what was refunded).'], ['Remboursement supérieur à la commande', 'Au plus `refundableMinor` XAF de cette commande restent remboursables (son total, moins ce qui a été remboursé).']],
  ['remedy_share_unavailable', 422, SUPPORT, ['Share unavailable', 'The `share` party’s balance cannot give back its share now; nothing was booked: change the shares.'], ['Part indisponible', 'Le solde de la partie `share` ne peut pas rendre sa part maintenant ; rien n’a été passé : changez les parts.']],
  ['remedies_full', 409, SUPPORT, ['Too many remedies', 'A ticket holds at most 100 remedies.'], ['Trop de gestes', 'Un ticket compte au plus 100 gestes.']],
  ['remedy_not_found', 404, SUPPORT, ['Remedy not found', 'There is no such remedy on this ticket among those you may see.'], ['Geste introuvable', 'Il n’y a pas de tel geste sur ce ticket parmi ceux que vous pouvez voir.']],
  ['rating_opener_only', 403, SUPPORT, ['Opener only', 'Only the ticket’s opener rates it.'], ['Réservé au demandeur', 'Seul l’auteur du ticket le note.']],
  ['ticket_not_resolved', 409, SUPPORT, ['Ticket not resolved', 'A ticket (now `ticketStatus`) is rated once it is resolved or closed.'], ['Ticket non résolu', 'Un ticket (maintenant `ticketStatus`) se note une fois résolu ou fermé.']],
  ['ticket_already_rated', 409, SUPPORT, ['Already rated', 'This ticket was rated `score` already.'], ['Déjà noté', 'Ce ticket a déjà reçu la note `score`.']],
  ['metrics_period_invalid', 400, SUPPORT, ['Invalid period', '`from` must be a date-time before `to`, at most 93 days apart.'], ['Période invalide', '`from` doit être une date antérieure à `to`, au plus 93 jours avant.']],
  ['email_signature_invalid', 403, SUPPORT, ['Signature invalid', 'The inbound e-mail is not signed by Mailgun with our key, or its timestamp is too old.'], ['Signature invalide', 'L’e-mail entrant n’est pas signé par Mailgun avec notre clé, ou son horodatage est trop ancien.']],
  ['sms_signature_invalid', 403, [...SUPPORT, ...USSD], ['Signature invalid', 'The inbound SMS is not signed by Twilio (X-Twilio-Signature).'], ['Signature invalide', 'Le SMS entrant n’est pas signé par Twilio (X-Twilio-Signature).']],
  ['ticket_changed', 409, SUPPORT, ['Ticket changed', 'The ticket changed meanwhile; reload it and retry.'], ['Ticket modifié', 'Le ticket a changé entre-temps ; rechargez-le puis réessayez.']],
  ['status_unchanged', 409, SUPPORT, ['Status unchanged', 'The ticket already has this status.'], ['Statut inchangé', 'Le ticket a déjà ce statut.']],
  ['status_transition_not_allowed', 409, SUPPORT, ['Status change refused', 'A ticket in `from` cannot become `to` by you.'], ['Changement de statut refusé', 'Un ticket `from` ne peut pas devenir `to` de votre fait.']],
  ['reopen_window_closed', 409, SUPPORT, ['Too late to reopen', 'The ticket could be reopened until `reopenableUntil`; open a new one.'], ['Trop tard pour rouvrir', 'Le ticket pouvait être rouvert jusqu’à `reopenableUntil` ; ouvrez-en un nouveau.']],
  ['supervisor_required', 403, SUPPORT, ['Supervisor required', 'Only a supervisor moves an escalated ticket on.'], ['Superviseur requis', 'Seul un superviseur fait avancer un ticket escaladé.']],
  ['team_route_not_found', 404, SUPPORT, ['Team mapping not found', 'There is no team mapping for this category (and `cityId`, if given).'], ['Correspondance d’équipe introuvable', 'Aucune équipe n’est associée à cette catégorie (et à `cityId`, si indiquée).']],
  ['team_route_city_unknown', 400, SUPPORT, ['Unknown city', 'The `cityId` names no known city.'], ['Ville inconnue', 'Le `cityId` ne désigne aucune ville connue.']],
  ['assignee_not_agent', 422, SUPPORT, ['Not a support agent', 'The assignee is no active support agent.'], ['Pas un agent du support', 'La personne désignée n’est pas un agent actif du support.']],
  ['dispute_not_applicable', 409, SUPPORT, ['No dispute from this ticket', 'Only the opener of an order-problem ticket about an order opens its dispute.'], ['Pas de litige depuis ce ticket', 'Seul l’auteur d’un ticket « problème de commande » lié à une commande ouvre son litige.']],
  ['dispute_customer_only', 403, SUPPORT, ['Customer only', 'Only the order’s customer opens its dispute.'], ['Réservé au client', 'Seul le client de la commande ouvre son litige.']],
  ['dispute_refused', 409, SUPPORT, ['Dispute refused', 'The order refuses the dispute now (`orderCode`, `orderStatus`): it must be delivered and within the dispute window.'], ['Litige refusé', 'La commande refuse le litige (`orderCode`, `orderStatus`) : elle doit être livrée et dans le délai de litige.']],
  ['experiment_not_found', 404, RECOMMENDATIONS, ['Experiment not found', 'No experiment has this key: list them with `GET /v1/admin/experiments`.'], ['Expérience introuvable', 'Aucune expérience ne porte cette clé : listez-les avec `GET /v1/admin/experiments`.']],
  ['experiment_not_served', 400, RECOMMENDATIONS, ['Experiment not served', 'No code reads this experiment: only the keys the service serves (e.g. `recommendations-ranker`) can run.'], ['Expérience non servie', 'Aucun code ne lit cette expérience : seules les clés servies (par ex. `recommendations-ranker`) peuvent tourner.']],
  ['invalid_experiment', 400, RECOMMENDATIONS, ['Invalid experiment', 'The variants, their weights, the control or the description break a rule; `detail` says which.'], ['Expérience invalide', 'Les variantes, leurs poids, le témoin ou la description enfreignent une règle ; `detail` dit laquelle.']],
  ['experiment_exists', 409, RECOMMENDATIONS, ['Experiment exists', 'An experiment with this key runs with another definition, or has run: stop it first, or use another key.'], ['Expérience existante', 'Une expérience de cette clé tourne avec une autre définition, ou a déjà tourné : arrêtez-la, ou prenez une autre clé.']],
  ['forecast_out_of_range', 400, RECOMMENDATIONS, ['Day out of range', 'A demand forecast covers a day from 60 days ago to tomorrow (`from`, `to`).'], ['Jour hors limites', 'Une prévision de demande couvre un jour entre il y a 60 jours et demain (`from`, `to`).']],
  ['invalid_date', 400, RECOMMENDATIONS, ['Invalid date', '`date` must be a calendar day, YYYY-MM-DD.'], ['Date invalide', '`date` doit être un jour du calendrier, AAAA-MM-JJ.']],
  ['location_required', 400, RECOMMENDATIONS, ['Place needed', 'Without signing in, give `lat` and `lng`: a guest is recommended dishes near a place.'], ['Lieu requis', 'Sans connexion, donnez `lat` et `lng` : un invité reçoit des plats proches d’un lieu.']],
  ['ussd_key_invalid', 401, USSD, ['USSD key missing or wrong', 'The USSD callback needs the aggregator’s shared secret (`?key=` in the callback URL, or the `X-Ussd-Key` header).'], ['Clé USSD absente ou erronée', 'Le rappel USSD exige le secret partagé de l’agrégateur (`?key=` dans l’URL de rappel, ou l’en-tête `X-Ussd-Key`).']],
  ['ussd_caller_refused', 403, USSD, ['Caller not allowed', 'This address is not in the USSD aggregator’s allow-list.'], ['Appelant refusé', 'Cette adresse n’est pas dans la liste des adresses de l’agrégateur USSD.']],
  ['order_repriced', 409, ORDERS, ['Total changed since the quote', 'Priced now, the order costs another total than the one the customer agreed to; nothing was placed, nothing charged. The `quote` extension gives the new figures.'], ['Le total a changé depuis le devis', 'Au prix d’aujourd’hui, la commande coûte un autre total que celui accepté par le client ; rien n’a été passé ni débité. L’extension `quote` donne les nouveaux montants.']],
  ['offline_order_repriced', 409, ORDERS, ['Total changed since the order was composed', 'Priced with today’s menu, the order costs another total than the one sent in `expectedTotalMinor`; nothing was placed. The `quote` extension gives the new figures: show them and send the order again (same `clientOrderId`) with the new total to confirm.'], ['Le total a changé depuis la commande', 'Au prix du menu d’aujourd’hui, la commande coûte un autre total que `expectedTotalMinor` ; rien n’a été passé. L’extension `quote` donne les nouveaux montants : montrez-les et renvoyez la commande (même `clientOrderId`) avec le nouveau total pour confirmer.']],
  ['offline_order_stale', 422, ORDERS, ['Offline order too old', 'The order was composed more than 7 days ago; compose it again with today’s menu.'], ['Commande hors ligne trop ancienne', 'La commande a été composée il y a plus de 7 jours ; recomposez-la avec le menu d’aujourd’hui.']],
  ['offline_order_composed_in_future', 400, ORDERS, ['Composed in the future', '`composedAt` is more than 5 minutes ahead of the server’s clock.'], ['Composée dans le futur', '`composedAt` est plus de 5 minutes en avance sur l’horloge du serveur.']],
  ['sync_cursor_invalid', 400, [...CATALOG, ...ORDERS, 'me'], ['Sync cursor invalid', 'The `since` cursor is not one this server gave for this restaurant or account and kind of data (or is in the future); sync without `since` to get everything again.'], ['Curseur de synchronisation invalide', 'Le curseur `since` n’a pas été donné par ce serveur pour ce restaurant ou ce compte et ce type de données (ou est dans le futur) ; synchronisez sans `since` pour tout recevoir à nouveau.']],
  ['sync_operation_refused', 400, ['sync'], ['Operation cannot be queued', 'A queued operation is not one priority sync runs (orders, payments, menus, profile, cart; see docs/api.md), or two have the same id; nothing in the queue was run.'], ['Opération non admise', 'Une opération de la file n’est pas de celles que la synchronisation prioritaire exécute (commandes, paiements, menus, profil, panier ; voir docs/api.md), ou deux ont le même identifiant ; rien n’a été exécuté.']],
  ['sync_fields_invalid', 400, [...CATALOG, ...ORDERS, 'me'], ['Unknown fields', 'The `fields` selection names a field the synced records (menu items, orders, addresses) do not have, or none.'], ['Champs inconnus', 'La sélection `fields` nomme un champ que les éléments synchronisés (plats, commandes, adresses) n’ont pas, ou aucun.']],
  ['invalid_ussd_request', 400, USSD, ['Invalid USSD callback', 'The callback lacks a field or holds one the aggregator never sends (session id, service code, phone number, text); nothing was done.'], ['Rappel USSD invalide', 'Le rappel manque d’un champ ou en contient un que l’agrégateur n’envoie jamais (session, code de service, numéro, texte) ; rien n’a été fait.']],
  ['ussd_busy', 503, USSD, ['Session busy', 'Another callback of this phone number is still being answered; try again in a moment.'], ['Session occupée', 'Un autre rappel de ce numéro est en cours de traitement ; réessayez dans un instant.']],
  // Favourites and shared links (src/modules/community, docs/community.md).
  ['favourites_full', 422, COMMUNITY, ['Too many favourites', 'You keep at most 100 favourites of each kind; remove one first.'], ['Trop de favoris', 'Vous gardez au plus 100 favoris de chaque sorte ; retirez-en un d’abord.']],
  ['favourite_not_found', 404, COMMUNITY, ['Not a favourite', 'This restaurant or dish is not one of your favourites.'], ['Pas un favori', 'Ce restaurant ou ce plat n’est pas parmi vos favoris.']],
  ['favourite_unavailable', 409, COMMUNITY, ['Not available now', 'This favourite cannot be ordered now (sold out, unavailable or closed).'], ['Indisponible', 'Ce favori ne peut pas être commandé maintenant (épuisé, indisponible ou fermé).']],
  ['no_previous_order', 404, COMMUNITY, ['No previous order', 'You have not ordered from this restaurant yet; open its menu.'], ['Aucune commande passée', 'Vous n’avez pas encore commandé dans ce restaurant ; ouvrez son menu.']],
  ['profile_not_found', 404, COMMUNITY, ['Profile not found', 'There is no public profile by this name (it may be private).'], ['Profil introuvable', 'Aucun profil public ne porte ce nom (il est peut-être privé).']],
  ['cart_not_empty', 409, COMMUNITY, ['Cart not empty', 'Your cart already holds dishes; send replaceCart: true to replace them.'], ['Panier non vide', 'Votre panier contient déjà des plats ; envoyez replaceCart: true pour les remplacer.']],
  // Group orders (src/modules/community, docs/community.md).
  ['bulk_order_not_found', 404, BULK, ['No such bulk order', 'There is no bulk order with this id among yours or your restaurant’s.'], ['Commande en gros introuvable', 'Aucune commande en gros avec cet identifiant parmi les vôtres ou celles de votre restaurant.']],
  ['bulk_order_state', 409, BULK, ['Not at this step', 'The bulk order is not at a step that allows this (requested, proposed, confirmed, placed or ended).'], ['Pas à cette étape', 'La commande en gros n’est pas à une étape qui le permet (demandée, proposée, confirmée, passée ou terminée).']],
  ['bulk_order_answer_late', 409, BULK, ['Too late to answer', 'The time to answer this bulk order has passed; it expires and its deposit goes back.'], ['Trop tard pour répondre', 'Le délai de réponse à cette commande en gros est passé ; elle expire et son acompte est remboursé.']],
  ['bulk_order_balance_late', 409, BULK, ['Too late to pay', 'The time to pay the balance of this bulk order has passed; it is cancelled under the late-cancellation rules.'], ['Trop tard pour payer', 'Le délai de paiement du solde de cette commande en gros est passé ; elle est annulée selon les règles d’annulation tardive.']],
  ['recipe_not_found', 404, COMMUNITY, ['No such recipe', 'There is no published recipe with this id (or it was hidden by moderation).'], ['Recette introuvable', 'Aucune recette publiée avec cet identifiant (ou elle a été masquée par la modération).']],
  ['recipe_comment_not_found', 404, COMMUNITY, ['No such comment', 'There is no visible comment with this id.'], ['Commentaire introuvable', 'Aucun commentaire visible avec cet identifiant.']],
  ['recipe_not_owner', 403, COMMUNITY, ['Not your restaurant', 'Only the restaurant’s owner (or an admin) may publish or change its recipes.'], ['Pas votre restaurant', 'Seul le propriétaire du restaurant (ou un administrateur) peut publier ou modifier ses recettes.']],
  ['recipe_dish_invalid', 422, COMMUNITY, ['Dish not of this restaurant', 'A recipe is tied to dishes of its own restaurant only; `dishIds` lists the others.'], ['Plat d’un autre restaurant', 'Une recette n’est liée qu’aux plats de son restaurant ; `dishIds` liste les autres.']],
  ['recipe_rating_not_allowed', 403, COMMUNITY, ['Not allowed to rate', 'Only a customer who received an order from this restaurant may rate its recipes.'], ['Notation non autorisée', 'Seul un client ayant reçu une commande de ce restaurant peut noter ses recettes.']],
  ['recipe_list_filter', 400, COMMUNITY, ['Which recipes?', 'List recipes by `restaurantId` or by `dishId`: send exactly one of them.'], ['Quelles recettes ?', 'Listez les recettes par `restaurantId` ou par `dishId` : envoyez exactement l’un des deux.']],
  ['report_duplicate', 409, COMMUNITY, ['Already reported', 'You have already reported this recipe or comment; support will look at it.'], ['Déjà signalé', 'Vous avez déjà signalé cette recette ou ce commentaire ; le support va l’examiner.']],
  ['bulk_order_deposit_late', 409, BULK, ['Too late to pay the deposit', 'The time to pay the deposit of this bulk order has passed; it expires.'], ['Trop tard pour payer l’acompte', 'Le délai de paiement de l’acompte de cette commande en gros est passé ; elle expire.']],
  ['bulk_order_collection_pending', 409, BULK, ['Payment in progress', 'A Mobile Money payment of this part of the bulk order is in progress; wait for its outcome before paying again.'], ['Paiement en cours', 'Un paiement Mobile Money de cette partie de la commande en gros est en cours ; attendez son issue avant de payer à nouveau.']],
  ['bulk_order_time', 422, BULK, ['Time out of range', 'A bulk order is for a time far enough ahead for the restaurant, and within the days orders may be scheduled.'], ['Horaire hors limites', 'Une commande en gros est pour un horaire assez éloigné pour le restaurant, et dans les jours où une commande peut être programmée.']],
  ['bulk_order_too_small', 422, BULK, ['Too small for a bulk order', 'A bulk order holds at least the configured number of portions; order smaller quantities as a normal order.'], ['Trop petite pour une commande en gros', 'Une commande en gros contient au moins le nombre de portions configuré ; commandez de plus petites quantités normalement.']],
  ['group_cart_not_found', 404, COMMUNITY, ['No such group cart', 'There is no group cart with this id or code among yours.'], ['Commande groupée introuvable', 'Aucune commande groupée avec cet identifiant ou ce code parmi les vôtres.']],
  ['group_cart_host_only', 403, COMMUNITY, ['Host only', 'Only the host of the group cart may lock, cover or abandon it.'], ['Réservé à l’hôte', 'Seul l’hôte de la commande groupée peut la verrouiller, la compléter ou l’abandonner.']],
  ['group_cart_state', 409, COMMUNITY, ['Not at this step', 'The group cart is not at a step that allows this (open, locked, placed or ended).'], ['Pas à cette étape', 'La commande groupée n’est pas à une étape qui le permet (ouverte, verrouillée, passée ou terminée).']],
  ['group_carts_too_many', 422, COMMUNITY, ['Too many group carts', 'You host too many group carts at once; finish or abandon one first.'], ['Trop de commandes groupées', 'Vous animez trop de commandes groupées à la fois ; terminez-en ou abandonnez-en une d’abord.']],
  ['group_cart_full', 422, COMMUNITY, ['Group cart full', 'This group cart has as many members as it may.'], ['Commande groupée complète', 'Cette commande groupée a atteint son nombre maximal de membres.']],
  ['group_lines_too_many', 422, COMMUNITY, ['Too many lines', 'The group cart, or your part of it, holds too many lines.'], ['Trop de lignes', 'La commande groupée, ou votre part, contient trop de lignes.']],
  ['group_item_unavailable', 409, COMMUNITY, ['Dish unavailable', 'A dish cannot be ordered now (sold out, unavailable or closed).'], ['Plat indisponible', 'Un plat ne peut pas être commandé maintenant (épuisé, indisponible ou fermé).']],
  ['group_cart_empty', 422, COMMUNITY, ['Empty group cart', 'Nobody has added anything to the group cart yet.'], ['Commande groupée vide', 'Personne n’a encore rien ajouté à la commande groupée.']],
  ['group_cart_changed', 409, COMMUNITY, ['Changed meanwhile', 'A member changed their lines while the cart was being locked; lock it again.'], ['Modifiée entre-temps', 'Un membre a modifié ses lignes pendant le verrouillage ; verrouillez de nouveau.']],
  ['group_share_none', 409, COMMUNITY, ['Nothing owed', 'You owe nothing towards this group cart.'], ['Rien à payer', 'Vous ne devez rien pour cette commande groupée.']],
  ['group_share_in_progress', 409, COMMUNITY, ['Share being paid', 'A share is being paid; try again in a moment.'], ['Part en cours de paiement', 'Une part est en cours de paiement ; réessayez dans un instant.']],
  // Restaurants' inventory (src/modules/inventory, docs/inventory.md).
  ['ingredient_not_found', 404, INVENTORY, ['Ingredient not found', 'There is no such ingredient in this restaurant.'], ['Ingrédient introuvable', 'Cet ingrédient n’existe pas dans ce restaurant.']],
  ['ingredient_exists', 409, INVENTORY, ['Ingredient exists', 'This restaurant already has an ingredient of that name.'], ['Ingrédient existant', 'Ce restaurant a déjà un ingrédient de ce nom.']],
  ['ingredients_full', 422, INVENTORY, ['Too many ingredients', 'A restaurant keeps at most 500 ingredients.'], ['Trop d’ingrédients', 'Un restaurant garde au plus 500 ingrédients.']],
  ['recipe_invalid', 400, INVENTORY, ['Invalid recipe', 'Name each ingredient of a recipe once.'], ['Recette invalide', 'Nommez chaque ingrédient d’une recette une seule fois.']],
  ['expiry_in_past', 400, INVENTORY, ['Expiry in the past', 'A lot received today cannot have expired already.'], ['Péremption passée', 'Un lot reçu aujourd’hui ne peut pas être déjà périmé.']],
  // Admin control centre (src/modules/admin, docs/admin.md).
  ['maintenance_mode', 503, ANY, ['Maintenance in progress', 'The service is read-only for maintenance: `message` is the operators’ message, `until` the expected end; retry after `Retry-After` seconds.'], ['Maintenance en cours', 'Le service est en lecture seule pour maintenance : `message` est le message de l’équipe, `until` la fin prévue ; réessayez après `Retry-After` secondes.']],
  ['flag_changed', 409, ADMIN, ['Flag changed', 'The feature flag changed meanwhile (now at `version`); reload it and retry.'], ['Indicateur modifié', 'L’indicateur a changé entre-temps (désormais en `version`) ; rechargez-le puis réessayez.']],
  ['too_many_flags', 409, ADMIN, ['Too many feature flags', 'The number of feature flags is capped; delete one before creating another.'], ['Trop d’indicateurs', 'Le nombre d’indicateurs est plafonné ; supprimez-en un avant d’en créer un autre.']],
  ['maintenance_end_past', 400, ADMIN, ['End of maintenance in the past', 'The announced end of maintenance (`until`) must be in the future.'], ['Fin de maintenance passée', 'La fin annoncée de la maintenance (`until`) doit être dans le futur.']],
  ['maintenance_message_required', 400, ADMIN, ['Message required', 'Switching maintenance on needs the message callers will read.'], ['Message requis', 'Activer la maintenance demande le message que liront les utilisateurs.']],
  ['note_required', 400, ADMIN, ['Note required', 'A decision on a fraud case needs a note of at least 3 characters.'], ['Note requise', 'Une décision sur un cas de fraude demande une note d’au moins 3 caractères.']],
  ['case_not_decided', 409, ADMIN, ['Case not decided', 'Decide the fraud case first: dismissing it releases its hold on payouts.'], ['Cas non tranché', 'Tranchez d’abord le cas de fraude : le classer libère son blocage des versements.']],
  ['payee_not_found', 404, ADMIN, ['No such payee', 'There is no driver, customer or restaurant with this id to hold.'], ['Bénéficiaire introuvable', 'Aucun livreur, client ou restaurant ne porte cet identifiant.']],
  ['payee_already_held', 409, ADMIN, ['Payee already on hold', 'This payee’s payouts are already on hold (`holdId`); release it before placing another.'], ['Bénéficiaire déjà bloqué', 'Les versements de ce bénéficiaire sont déjà bloqués (`holdId`) ; levez ce blocage avant d’en poser un autre.']],
  ['analytics_range_invalid', 400, ADMIN, ['Invalid period', '`from` and `to` are real days (YYYY-MM-DD), `from` on or before `to`, at most 366 days.'], ['Période invalide', '`from` et `to` sont des jours réels (AAAA-MM-JJ), `from` au plus tard `to`, 366 jours au plus.']],
  ['partnership_already_reviewed', 409, ADMIN, ['Request already reviewed', 'The partnership request was already accepted or declined (`requestStatus`).'], ['Demande déjà examinée', 'La demande de partenariat a déjà été acceptée ou refusée (`requestStatus`).']],
  ['fraud_summary_not_found', 404, ADMIN, ['Fraud summary not found', 'There is no weekly fraud summary with this id.'], ['Synthèse de fraude introuvable', 'Aucune synthèse hebdomadaire de fraude ne porte cet identifiant.']],
  ['case_already_decided', 409, ADMIN, ['Case already decided', 'The fraud case was already decided (`caseStatus`).'], ['Cas déjà tranché', 'Le cas de fraude a déjà été tranché (`caseStatus`).']],
  ['retention_kind_unknown', 400, ADMIN, ['Unknown kind of data', 'No kind of data has this name (`kinds` lists them).'], ['Type de données inconnu', 'Aucun type de données ne porte ce nom (`kinds` les liste).']],
  ['retention_days_out_of_range', 400, ADMIN, ['Retention period out of range', 'This kind of data is kept from `minimumDays` to `maximumDays` days.'], ['Durée de conservation hors limites', 'Ce type de données est conservé de `minimumDays` à `maximumDays` jours.']],
  ['retention_changed', 409, ADMIN, ['Retention policy changed', 'The policy changed since it was read (now at `version`); reload it and retry.'], ['Politique de conservation modifiée', 'La politique a changé depuis sa lecture (désormais en `version`) ; rechargez-la puis réessayez.']],
  ['rate_limit_tier_unknown', 400, ADMIN, ['Unknown rate-limit tier', 'The tiers are anonymous, user, auth and payment.'], ['Palier inconnu', 'Les paliers sont anonymous, user, auth et payment.']],
  ['rate_limit_out_of_range', 400, ADMIN, ['Rate limit out of range', 'A tier allows from 1 to 1 000 000 requests per window.'], ['Limite hors plage', 'Un palier autorise de 1 à 1 000 000 requêtes par fenêtre.']],
  ['rate_limits_changed', 409, ADMIN, ['Rate limits changed', 'The rate limits changed since they were read (now at `version`); reload them and retry.'], ['Limites modifiées', 'Les limites ont changé depuis leur lecture (désormais en `version`) ; rechargez-les puis réessayez.']],
  ['promo_period_invalid', 400, ADMIN, ['Invalid period', '`endsAt` must be after `startsAt` and in the future.'], ['Période invalide', '`endsAt` doit suivre `startsAt` et être dans le futur.']],
  ['promo_start_past', 400, ADMIN, ['Start in the past', 'A placement starts now or later (a minute of clock skew counts as now).'], ['Début passé', 'Un emplacement commence maintenant ou plus tard (une minute d’écart d’horloge compte comme maintenant).']],
  ['promo_period_too_long', 400, ADMIN, ['Period too long', 'A placement runs at most 92 days and starts at most 366 days ahead.'], ['Période trop longue', 'Un emplacement dure au plus 92 jours et commence au plus 366 jours à l’avance.']],
  ['promo_city_unknown', 422, ADMIN, ['Unknown city', 'No city served by the platform has this id.'], ['Ville inconnue', 'Aucune ville desservie n’a cet identifiant.']],
  ['promo_restaurant_inactive', 422, ADMIN, ['Restaurant not active', 'Only an active restaurant can be placed on the home feed.'], ['Restaurant inactif', 'Seul un restaurant actif peut figurer dans le fil d’accueil.']],
  ['promo_city_mismatch', 422, ADMIN, ['Restaurant in another city', 'A restaurant is placed only on its own city’s feed.'], ['Restaurant d’une autre ville', 'Un restaurant ne figure que dans le fil de sa propre ville.']],
  ['promo_slot_taken', 409, ADMIN, ['Position already sold', 'Another placement holds this position for part of the period (`conflictingSlotId`).'], ['Position déjà vendue', 'Un autre emplacement occupe cette position sur une partie de la période (`conflictingSlotId`).']],
  ['promo_restaurant_overlap', 409, ADMIN, ['Restaurant already placed', 'The restaurant already has a placement on this city’s feed for part of the period (`conflictingSlotId`).'], ['Restaurant déjà placé', 'Le restaurant a déjà un emplacement dans le fil de cette ville sur une partie de la période (`conflictingSlotId`).']],
  ['promo_slot_cancelled', 409, ADMIN, ['Placement cancelled', 'A cancelled placement cannot be changed.'], ['Emplacement annulé', 'Un emplacement annulé ne peut plus être modifié.']],
  ['promo_slot_ended', 409, ADMIN, ['Placement ended', 'An ended placement is history: it cannot be changed or cancelled.'], ['Emplacement terminé', 'Un emplacement terminé appartient à l’historique : il ne peut être ni modifié ni annulé.']],
  ['promo_slot_changed', 409, ADMIN, ['Placement changed', 'The placement changed since it was read (now at `version`); reload it and retry.'], ['Emplacement modifié', 'L’emplacement a changé depuis sa lecture (désormais en `version`) ; rechargez-le puis réessayez.']],
  ['promo_slot_running', 409, ADMIN, ['Placement running', 'A running placement keeps its start; change its end instead.'], ['Emplacement en cours', 'Un emplacement en cours garde son début ; modifiez plutôt sa fin.']],
  ['newsletter_template_invalid', 400, ADMIN, ['Invalid newsletter texts', 'Each text of the campaign, in French and English, must be plain words, not blank, without template syntax (`problems`).'], ['Textes de la lettre invalides', 'Chaque texte de la campagne, en français et en anglais, doit être fait de mots simples, non vide, sans syntaxe de gabarit (`problems`).']],
  ['newsletter_schedule_invalid', 400, ADMIN, ['Invalid schedule', 'A campaign is scheduled from now to a year ahead.'], ['Programmation invalide', 'Une campagne se programme entre maintenant et un an plus tard.']],
  ['newsletter_started', 409, ADMIN, ['Campaign started', 'The campaign is sending or ended (`campaignStatus`): it can no longer be scheduled or cancelled.'], ['Campagne commencée', 'La campagne est en cours d’envoi ou terminée (`campaignStatus`) : elle ne peut plus être programmée ni annulée.']],
  ['unsubscribe_token_invalid', 400, ADMIN, ['Invalid unsubscribe link', 'This unsubscribe link is not one we sent.'], ['Lien de désabonnement invalide', 'Ce lien de désabonnement n’est pas l’un des nôtres.']],
  ['newsletter_invalid', 400, ADMIN, ['Invalid newsletter message', 'A newsletter message names a campaign or a person that is no UUID.'], ['Message de lettre invalide', 'Un message de lettre d’information désigne une campagne ou une personne qui n’est pas un UUID.']],
];

function build(rows: Row[]): ReadonlyMap<string, CatalogueEntry> {
  const entries = new Map<string, CatalogueEntry>();
  for (const [code, statuses, areas, en, fr] of rows) {
    if (entries.has(code)) throw new Error(`problem code ${code} is catalogued twice`);
    entries.set(code, {
      code,
      statuses: Array.isArray(statuses) ? statuses : [statuses],
      areas,
      en: { title: en[0], description: en[1] },
      fr: { title: fr[0], description: fr[1] },
    });
  }
  return entries;
}

/** Every problem code, by code. */
export const PROBLEM_CATALOGUE: ReadonlyMap<string, CatalogueEntry> = build(ROWS);

/** The language a client prefers among ours (Accept-Language, or `?lang=`); English by default. */
export function preferredLanguage(acceptLanguage: string | undefined, explicit?: string): Language {
  if (explicit === 'fr' || explicit === 'en') return explicit;
  return requestedLanguage(acceptLanguage) ?? 'en';
}

/** The one of ours that Accept-Language ranks highest, or undefined when it names neither. */
export function requestedLanguage(acceptLanguage: string | undefined): Language | undefined {
  if (acceptLanguage === undefined) return undefined;
  const ranked = acceptLanguage
    .split(',')
    .slice(0, 20)
    .map((part, index) => {
      const [tag = '', ...parameters] = part.trim().toLowerCase().split(';');
      const quality = parameters.map((item) => item.trim()).find((item) => item.startsWith('q='));
      return {
        tag: tag.split('-')[0] ?? '',
        q: quality === undefined ? 1 : Number(quality.slice(2)) || 0,
        index,
      };
    })
    .filter((item) => item.q > 0 && (item.tag === 'fr' || item.tag === 'en'))
    .sort((a, b) => b.q - a.q || a.index - b.index);
  return ranked[0]?.tag as Language | undefined;
}

/** The codes of the catalogue a route of these tags may answer with this status. */
export function codesFor(status: number, tags: readonly string[]): string[] {
  const codes: string[] = [];
  for (const entry of PROBLEM_CATALOGUE.values()) {
    if (!entry.statuses.includes(status)) continue;
    if (entry.areas === '*' || entry.areas.some((area) => tags.includes(area))) codes.push(entry.code);
  }
  return codes;
}
