/**
 * The French of every problem `detail` thrown in src/ (issue #25): the English text as written at
 * the throw site (a template keeps its `${expression}`s) and its French, whose `${…}`s are the
 * same expressions, filled at run time with what the English detail carried (a field, a limit, a
 * state). src/http/problem-details.test.ts fails on a thrown detail missing here, on an entry no
 * longer thrown, and on a French text whose placeholders differ from the English.
 */
export const PROBLEM_DETAILS_FR: Readonly<Record<string, string>> = {
  'The service is overloaded; retry shortly.': 'Le service est surchargé ; réessayez dans un instant.',
  'The resource changed meanwhile; reload and retry.':
    'La ressource a changé entre-temps ; rechargez puis réessayez.',
  'The resource does not exist.': 'La ressource n’existe pas.',
  'There is no such fraud summary.': 'Cette synthèse de fraude n’existe pas.',
  'This item has no description draft.': 'Ce plat n’a pas de brouillon de description.',
  'A newer draft replaced this one; read it and confirm that one.':
    'Un brouillon plus récent a remplacé celui-ci ; lisez-le et confirmez celui-là.',
  'The change is too large (limit ${error.limitBytes} bytes).':
    'La modification est trop volumineuse (limite : ${error.limitBytes} octets).',
  'The event ids were already used by another change.':
    'Ces identifiants d’événements ont déjà servi à une autre modification.',
  'The request is invalid.': 'La requête est invalide.',
  'Say what you are looking for in at least 2 letters.': 'Dites ce que vous cherchez en 2 lettres au moins.',
  'Voice and photo search are unavailable right now; search by text instead.':
    'La recherche par la voix et par photo est indisponible pour le moment ; cherchez par texte.',
  'The clip is larger than ${MAX_AUDIO_BYTES} bytes.': 'L’extrait dépasse ${MAX_AUDIO_BYTES} octets.',
  'The photo is larger than ${MAX_IMAGE_BYTES} bytes.': 'La photo dépasse ${MAX_IMAGE_BYTES} octets.',
  'The clip is longer than ${MAX_AUDIO_SECONDS} seconds.':
    'L’extrait dure plus de ${MAX_AUDIO_SECONDS} secondes.',
  'The bytes are not the format the Content-Type names.':
    'Les octets ne sont pas au format qu’annonce le Content-Type.',
  'Send the clip as the raw body: WAV, MP3, OGG, FLAC or AAC.':
    'Envoyez l’extrait comme corps brut : WAV, MP3, OGG, FLAC ou AAC.',
  'Send the photo as the raw body: JPEG, PNG or WebP.':
    'Envoyez la photo comme corps brut : JPEG, PNG ou WebP.',
  'Too many requests; retry later.': 'Trop de requêtes ; réessayez plus tard.',
  'The request could not be processed.': 'La requête n’a pas pu être traitée.',
  'A service this request needs is unavailable; retry shortly.':
    'Un service nécessaire à cette requête est indisponible ; réessayez dans un instant.',
  'An internal error occurred.': 'Une erreur interne s’est produite.',
  "No route ${request.method} ${request.url.split('?')[0]}.":
    "Aucune route ${request.method} ${request.url.split('?')[0]}.",
  'Send an Idempotency-Key header.': 'Envoyez un en-tête Idempotency-Key.',
  'Idempotency-Key must be 8-128 characters [A-Za-z0-9_.:-].':
    'Idempotency-Key doit compter de 8 à 128 caractères [A-Za-z0-9_.:-].',
  'A request with this Idempotency-Key is still in progress.':
    'Une requête avec cette Idempotency-Key est encore en cours.',
  'This Idempotency-Key was used with a different request.':
    'Cette Idempotency-Key a déjà servi pour une autre requête.',
  'Send the metrics token as Authorization: Bearer.':
    'Envoyez le jeton des métriques en Authorization: Bearer.',
  'No problem code ${request.params.code} in the catalogue.':
    'Aucun code de problème ${request.params.code} dans le catalogue.',
  'Too many requests; retry in ${Math.ceil(context.ttl / 1000)} s.':
    'Trop de requêtes ; réessayez dans ${Math.ceil(context.ttl / 1000)} s.',
  'Operation ${index + 1} (${what}) cannot be queued.':
    'L’opération ${index + 1} (${what}) ne peut pas être mise en file.',
  'Two queued operations have the same id.': 'Deux opérations de la file ont le même identifiant.',
  'Text may not contain NUL characters or unpaired UTF-16 surrogates.':
    'Le texte ne peut contenir ni caractère NUL ni demi-caractère UTF-16 isolé.',
  'Say why, in at least 3 characters.': 'Donnez la raison, en 3 caractères au moins.',
  'No such fraud case.': 'Ce dossier de fraude n’existe pas.',
  'No such newsletter campaign.': 'Cette campagne de lettre d’information n’existe pas.',
  'There is no such asset.': 'Cette ressource n’existe pas.',
  'No such report.': 'Ce rapport n’existe pas.',
  'Each text must be plain words, not blank, without template syntax.':
    'Chaque texte doit être fait de mots simples, non vide, sans syntaxe de gabarit.',
  'Schedule it from now to a year ahead.': 'Programmez-la entre maintenant et un an plus tard.',
  'The campaign has started or ended: it can no longer change.':
    'La campagne a commencé ou est terminée : elle ne peut plus changer.',
  'This unsubscribe link is not valid.': 'Ce lien de désabonnement n’est pas valide.',
  'Decide the case first (dismissing releases its hold).':
    'Tranchez d’abord le dossier (le classer sans suite libère sa retenue).',
  'This case holds no payouts.': 'Ce dossier ne retient aucun versement.',
  'The case was already decided.': 'Le dossier a déjà été tranché.',
  'The cursor is not one this API issued.': 'Ce curseur n’a pas été émis par cette API.',
  'No rate-limit tier is called ${tier}.': 'Aucun palier de limitation ne s’appelle ${tier}.',
  'A tier allows 1 to ${RATE_LIMIT_MAX}.': 'Un palier autorise de 1 à ${RATE_LIMIT_MAX}.',
  'The rate limits changed since they were read.': 'Les limites ont changé depuis leur lecture.',
  'No kind of data is called ${name}.': 'Aucun type de données ne s’appelle ${name}.',
  '${name} is kept ${kind.minimumDays} to ${RETENTION_MAX_DAYS} days.':
    '${name} se conserve de ${kind.minimumDays} à ${RETENTION_MAX_DAYS} jours.',
  'The policy changed since it was read.': 'La politique a changé depuis sa lecture.',
  'The flag changed meanwhile; reload it and retry.':
    'L’indicateur a changé entre-temps ; rechargez-le puis réessayez.',
  'At most ${MAX_FLAGS} feature flags exist at once; delete one first.':
    'Au plus ${MAX_FLAGS} indicateurs de fonctionnalité à la fois ; supprimez-en un d’abord.',
  'No such feature flag.': 'Cet indicateur de fonctionnalité n’existe pas.',
  'The announced end of maintenance must be in the future.':
    'La fin annoncée de la maintenance doit être dans le futur.',
  'Say what callers will read during maintenance.':
    'Dites ce que les appelants liront pendant la maintenance.',
  'A suspension needs a reason of at least 3 characters.':
    'Une suspension demande une raison d’au moins 3 caractères.',
  'The service is in maintenance (read-only).': 'Le service est en maintenance (lecture seule).',
  'We do not serve this city (yet).': 'Nous ne desservons pas (encore) cette ville.',
  'At most ${MAX_CITIES} cities.': 'Au plus ${MAX_CITIES} villes.',
  'The city ${city.id} already exists; update it instead.':
    'La ville ${city.id} existe déjà ; modifiez-la plutôt.',
  'No such city.': 'Cette ville n’existe pas.',
  'No such restaurant.': 'Ce restaurant n’existe pas.',
  "Only this restaurant's owner or an admin may edit its menu.":
    'Seuls le propriétaire de ce restaurant ou un administrateur peuvent modifier sa carte.',
  'No such category in this restaurant.': 'Cette catégorie n’existe pas dans ce restaurant.',
  'No such item in this restaurant.': 'Ce plat n’existe pas dans ce restaurant.',
  'No such modifier group in this restaurant.': 'Ce groupe d’options n’existe pas dans ce restaurant.',
  'A menu holds at most ${MAX_CATEGORIES_PER_RESTAURANT} categories.':
    'Une carte compte au plus ${MAX_CATEGORIES_PER_RESTAURANT} catégories.',
  'The category is archived.': 'La catégorie est archivée.',
  'A menu holds at most ${MAX_ITEMS_PER_RESTAURANT} items.':
    'Une carte compte au plus ${MAX_ITEMS_PER_RESTAURANT} plats.',
  'An item has at most ${MAX_MODIFIER_GROUPS_PER_ITEM} modifier groups.':
    'Un plat a au plus ${MAX_MODIFIER_GROUPS_PER_ITEM} groupes d’options.',
  "Unknown cuisine: ${unknown.join(', ')}.": "Cuisine inconnue : ${unknown.join(', ')}.",
  'At most ${MAX_CUISINES_PER_RESTAURANT} cuisines.': 'Au plus ${MAX_CUISINES_PER_RESTAURANT} cuisines.',
  'Only the owner of this restaurant or an admin may change it.':
    'Seuls le propriétaire de ce restaurant ou un administrateur peuvent le modifier.',
  'Only an admin may verify, reject or suspend a restaurant.':
    'Seul un administrateur peut vérifier, refuser ou suspendre un restaurant.',
  'Only the customer of a completed order may review it.':
    'Seul le client d’une commande terminée peut la noter.',
  'Reviews are accepted for ${REVIEW_WINDOW_DAYS} days after delivery.':
    'Les avis sont acceptés pendant ${REVIEW_WINDOW_DAYS} jours après la livraison.',
  'That order was not from this restaurant.': 'Cette commande ne venait pas de ce restaurant.',
  'This order has already been reviewed.': 'Cette commande a déjà été notée.',
  'That driver did not deliver this order.': 'Ce livreur n’a pas livré cette commande.',
  "This order's driver has already been rated.": 'Le livreur de cette commande a déjà été noté.',
  'No such review.': 'Cet avis n’existe pas.',
  'You cannot vote for your own review.': 'Vous ne pouvez pas voter pour votre propre avis.',
  "Only the restaurant's owner may reply to its reviews.":
    'Seul le propriétaire du restaurant peut répondre à ses avis.',
  'The owner has already replied to this review.': 'Le propriétaire a déjà répondu à cet avis.',
  'The cursor is malformed or belongs to another list.':
    'Le curseur est mal formé ou appartient à une autre liste.',
  'Sign in first.': 'Connectez-vous d’abord.',
  'Send lat and lng together.': 'Envoyez lat et lng ensemble.',
  "Unknown or no fields: ${fields.unknown.join(', ')}.":
    "Champs inconnus ou absents : ${fields.unknown.join(', ')}.",
  'Send a delivery photo of this order you uploaded (POST /v1/files, purpose delivery_photo).':
    'Envoyez une photo de livraison de cette commande que vous avez téléversée (POST /v1/files, purpose delivery_photo).',
  'Send `photoFileId`: a delivery photo of this order you uploaded (POST /v1/files, purpose delivery_photo).':
    'Envoyez `photoFileId` : une photo de livraison de cette commande que vous avez téléversée (POST /v1/files, purpose delivery_photo).',
  '`${field}` is not a clean ${purpose} of this order that you uploaded.':
    '`${field}` n’est pas un fichier ${purpose} sain de cette commande téléversé par vous.',
  '`from` must be before `to`.': '`from` doit précéder `to`.',
  'A period covers at most ${EARNINGS_MAX_RANGE_DAYS} days.':
    'Une période couvre au plus ${EARNINGS_MAX_RANGE_DAYS} jours.',
  'A peak-hour rule needs weekdays, startHour and endHour.':
    'Une règle d’heures de pointe demande weekdays, startHour et endHour.',
  'startHour must be before endHour.': 'startHour doit précéder endHour.',
  'A challenge needs a target number of deliveries, from and to.':
    'Un défi demande un nombre de livraisons à atteindre, from et to.',
  'A challenge’s `from` must be before its `to`.': 'Le `from` d’un défi doit précéder son `to`.',
  'A challenge lasts at most ${EARNINGS_MAX_RANGE_DAYS} days.':
    'Un défi dure au plus ${EARNINGS_MAX_RANGE_DAYS} jours.',
  'There is no such incentive rule.': 'Cette règle d’incitation n’existe pas.',
  '${name} must be a number from 0 to ${max}.': '${name} doit être un nombre de 0 à ${max}.',
  'data must be an object.': 'data doit être un objet.',
  'question must be a string of 1 to ${QUESTION_MAX} characters.':
    'question doit être un texte de 1 à ${QUESTION_MAX} caractères.',
  'language must be fr or en.': 'language doit être fr ou en.',
  'Unknown field ${key.slice(0, 40)}.': 'Champ inconnu ${key.slice(0, 40)}.',
  '${key} must be a number.': '${key} doit être un nombre.',
  'recordedAt must be an ISO 8601 date-time.': 'recordedAt doit être une date-heure ISO 8601.',
  'Only drivers ${doing}.': 'Seuls les livreurs ${doing}.',
  'offerId must be a UUID.': 'offerId doit être un UUID.',
  'reason must be a string of 1 to 200 characters.': 'reason doit être un texte de 1 à 200 caractères.',
  'No such offer.': 'Cette offre n’existe pas.',
  'This offer was made to another driver.': 'Cette offre a été faite à un autre livreur.',
  'The offer expired; it went to another driver.': 'L’offre a expiré ; elle est passée à un autre livreur.',
  'The offer was ${offer.outcome}.': 'L’offre a été ${offer.outcome}.',
  'No offer can be made now.': 'Aucune offre ne peut être faite maintenant.',
  'The dispatch is ${state.status}; only a failed one is retried.':
    'L’affectation est ${state.status} ; seule une affectation échouée est relancée.',
  'Only drivers receive offers.': 'Seuls les livreurs reçoivent des offres.',
  'This order has no ETA yet.': 'Cette commande n’a pas encore d’heure d’arrivée estimée.',
  'This order was never dispatched.': 'Cette commande n’a jamais été affectée.',
  'The order was taken or cancelled meanwhile.': 'La commande a été prise ou annulée entre-temps.',
  'The order no longer waits for a driver (claimed, cancelled or past pickup).':
    'La commande n’attend plus de livreur (prise, annulée ou déjà retirée).',
  'Only drivers have earnings and safety reports.':
    'Seuls les livreurs ont des gains et des signalements de sécurité.',
  'The cursor is not one this API gave.': 'Ce curseur n’a pas été donné par cette API.',
  'There is no application to drive for this user.': 'Cet utilisateur n’a aucune candidature de livreur.',
  'The ${kind} document is not one of your driver documents of that kind (POST /v1/files, purpose driver_document).':
    'Le document ${kind} n’est pas l’un de vos documents de livreur de ce type (POST /v1/files, purpose driver_document).',
  'You are already an approved driver.': 'Vous êtes déjà livreur approuvé.',
  'Only a driver whose application was approved goes on shift (PUT /v1/drivers/me/application).':
    'Seul un livreur dont la candidature est approuvée prend son service (PUT /v1/drivers/me/application).',
  'Your licence or insurance has expired: renew it and apply again.':
    'Votre permis ou votre assurance a expiré : renouvelez-le et postulez de nouveau.',
  'Your approved vehicle is a ${approved}: apply again to drive another.':
    'Votre véhicule approuvé est un ${approved} : postulez de nouveau pour en conduire un autre.',
  '`from` must be before `to`, at most ${PERFORMANCE_MAX_RANGE_DAYS} days apart.':
    '`from` doit précéder `to`, à ${PERFORMANCE_MAX_RANGE_DAYS} jours d’écart au plus.',
  'Only drivers have a shift and a position.': 'Seuls les livreurs ont un service et une position.',
  'Use another key.': 'Utilisez une autre clé.',
  'A photo is not a file you uploaded.': 'Une photo n’est pas un fichier que vous avez téléversé.',
  'There is no such report of yours.': 'Vous n’avez pas de signalement de ce nom.',
  'There is no such report.': 'Ce signalement n’existe pas.',
  'Go online (PUT /v1/drivers/me/availability) before sending positions.':
    'Passez en ligne (PUT /v1/drivers/me/availability) avant d’envoyer des positions.',
  'Another position was just accepted.': 'Une autre position vient d’être acceptée.',
  'Too many uploads are being processed; retry shortly.':
    'Trop de téléversements en cours de traitement ; réessayez dans un instant.',
  'The file is larger than the virus scanner takes.': 'Le fichier dépasse la taille que l’antivirus accepte.',
  'The virus scanner cannot answer now; retry shortly.':
    'L’antivirus ne peut pas répondre pour le moment ; réessayez dans un instant.',
  'The virus scanner refused the file.': 'L’antivirus a refusé le fichier.',
  'The image cannot be decoded: ${reason}.': 'L’image ne peut pas être décodée : ${reason}.',
  'The image claims ${width} x ${height} pixels; at most ${maxPixels} are accepted.':
    'L’image annonce ${width} x ${height} pixels ; au plus ${maxPixels} sont acceptés.',
  'The file is none of the types this upload takes.':
    'Le fichier n’est d’aucun des types que ce téléversement accepte.',
  'A ${mime} file is not accepted here.': 'Un fichier ${mime} n’est pas accepté ici.',
  'The image carries another file after its end (a polyglot); upload the image alone.':
    'L’image contient un autre fichier après sa fin (un polyglotte) ; téléversez l’image seule.',
  'The PDF does not start with %PDF-.': 'Le PDF ne commence pas par %PDF-.',
  'The PDF does not end with %%EOF: it is truncated or not a PDF.':
    'Le PDF ne se termine pas par %%EOF : il est tronqué ou n’est pas un PDF.',
  'The PDF also reads as HTML or script (a polyglot).':
    'Le PDF se lit aussi comme du HTML ou un script (un polyglotte).',
  'The PDF carries scripts, actions or embedded files; print it to PDF again.':
    'Le PDF contient des scripts, des actions ou des fichiers joints ; réimprimez-le en PDF.',
  'A form field holds a NUL character or a lone UTF-16 surrogate.':
    'Un champ du formulaire contient un caractère NUL ou un demi-caractère UTF-16 isolé.',
  'The file is larger than ${maxBytes} bytes.': 'Le fichier dépasse ${maxBytes} octets.',
  'One upload carries one file.': 'Un téléversement porte un seul fichier.',
  'The form has more fields than an upload takes.':
    'Le formulaire a plus de champs qu’un téléversement n’en accepte.',
  'A field name is not allowed.': 'Un nom de champ n’est pas autorisé.',
  'The multipart body cannot be read.': 'Le corps multipart est illisible.',
  'Send the upload as multipart/form-data.': 'Envoyez le téléversement en multipart/form-data.',
  'The file goes in a part named `file`.': 'Le fichier va dans une partie nommée `file`.',
  'A field is longer than ${MAX_FIELD_BYTES} bytes.': 'Un champ dépasse ${MAX_FIELD_BYTES} octets.',
  'A field was sent twice.': 'Un champ a été envoyé deux fois.',
  'There is no such photo.': 'Cette photo n’existe pas.',
  'The link has expired; ask for the file again.': 'Le lien a expiré ; redemandez le fichier.',
  'The link is not one this API signed.': 'Ce lien n’a pas été signé par cette API.',
  'There is no such file.': 'Ce fichier n’existe pas.',
  'Send a `purpose` field before the file.': 'Envoyez un champ `purpose` avant le fichier.',
  '"${purpose.slice(0, 40)}" is not an upload purpose.':
    '« ${purpose.slice(0, 40)} » n’est pas un usage de téléversement.',
  'This purpose takes no field "${name.slice(0, 40)}".':
    'Cet usage ne prend pas de champ « ${name.slice(0, 40)} ».',
  'This purpose needs the field "${name}".': 'Cet usage demande le champ « ${name} ».',
  'The field "${name}" is not valid.': 'Le champ « ${name} » n’est pas valide.',
  'Send the file as a part named `file`.': 'Envoyez le fichier dans une partie nommée `file`.',
  'The file is empty.': 'Le fichier est vide.',
  'There is no such file among those you may see.':
    'Aucun fichier de ce nom parmi ceux que vous pouvez voir.',
  'A photo is replaced by uploading another, not deleted.':
    'Une photo se remplace en téléversant une autre, elle ne se supprime pas.',
  'Only the owner of the restaurant may change its photos.':
    'Seul le propriétaire du restaurant peut changer ses photos.',
  'The restaurant has no such menu item.': 'Le restaurant n’a pas ce plat à sa carte.',
  'Only a driver or an applicant to drive uploads driver documents, for themselves.':
    'Seul un livreur ou un candidat livreur téléverse des documents de livreur, pour lui-même.',
  'There is no such order among yours.': 'Cette commande ne fait pas partie des vôtres.',
  'An order in ${parties.status} takes no ${purpose}.':
    'Une commande à l’état ${parties.status} ne prend pas de ${purpose}.',
  'Give the phone number in E.164, e.g. +237 6XX XX XX XX.':
    'Donnez le numéro de téléphone au format E.164, par exemple +237 6XX XX XX XX.',
  'The password does not meet the policy.': 'Le mot de passe ne respecte pas la politique.',
  'This e-mail address is used by another account.': 'Cette adresse e-mail est utilisée par un autre compte.',
  'No registration is waiting for this number.': 'Aucune inscription n’attend ce numéro.',
  'The phone number or the password is wrong.': 'Le numéro de téléphone ou le mot de passe est incorrect.',
  'Verify the phone number with the SMS code first.':
    'Vérifiez d’abord le numéro de téléphone avec le code reçu par SMS.',
  'This account is suspended; contact support.': 'Ce compte est suspendu ; contactez le support.',
  'Send the code of your authenticator app in `totp`.':
    'Envoyez le code de votre application d’authentification dans `totp`.',
  'The authenticator code is wrong.': 'Le code d’authentification est incorrect.',
  'The reset link is wrong, used or expired; request a new one.':
    'Le lien de réinitialisation est incorrect, déjà utilisé ou expiré ; demandez-en un nouveau.',
  'No such user.': 'Cet utilisateur n’existe pas.',
  "Unknown roles: ${unknown.join(', ')}.": "Rôles inconnus : ${unknown.join(', ')}.",
  'A guest must convert to a customer account before getting roles.':
    'Un invité doit passer à un compte client avant de recevoir des rôles.',
  'Admins cannot suspend themselves.': 'Un administrateur ne peut pas se suspendre lui-même.',
  'The user is not suspended.': 'L’utilisateur n’est pas suspendu.',
  'The request body is too large.': 'Le corps de la requête est trop volumineux.',
  'Admin routes are not reachable from this address.':
    'Les routes d’administration ne sont pas accessibles depuis cette adresse.',
  'Send an access token: Authorization: Bearer <token>.':
    'Envoyez un jeton d’accès : Authorization: Bearer <jeton>.',
  'The admin session ended after inactivity; log in again.':
    'La session d’administration s’est fermée après inactivité ; reconnectez-vous.',
  'Admins must set up two-factor authentication first: POST /v1/auth/2fa/setup.':
    'Les administrateurs doivent d’abord activer la double authentification : POST /v1/auth/2fa/setup.',
  'Your role does not allow this.': 'Votre rôle ne le permet pas.',
  'Confirm this action: POST /v1/auth/step-up, then retry with the new token.':
    'Confirmez cette action : POST /v1/auth/step-up, puis réessayez avec le nouveau jeton.',
  'Too many failed attempts; retry in ${Math.ceil(seconds / 60)} minutes.':
    'Trop d’échecs ; réessayez dans ${Math.ceil(seconds / 60)} minutes.',
  'Too many failed sign-ins from this network; retry later.':
    'Trop de connexions échouées depuis ce réseau ; réessayez plus tard.',
  'Send the access token as ?access_token= or Authorization: Bearer.':
    'Envoyez le jeton d’accès en ?access_token= ou Authorization: Bearer.',
  'The access token is not valid.': 'Le jeton d’accès n’est pas valide.',
  'Your role cannot open /ws/${namespace}.': 'Votre rôle ne peut pas ouvrir /ws/${namespace}.',
  'This request comes from a site that may not use the session cookie.':
    'Cette requête vient d’un site qui ne peut pas utiliser le cookie de session.',
  'This number already has an account; log in instead.':
    'Ce numéro a déjà un compte ; connectez-vous plutôt.',
  'The code is wrong or no code is pending; check the SMS or request a new code.':
    'Le code est incorrect ou aucun code n’est en attente ; vérifiez le SMS ou demandez un nouveau code.',
  'The code has expired; request a new one.': 'Le code a expiré ; demandez-en un nouveau.',
  'Too many wrong codes; request a new one.': 'Trop de codes incorrects ; demandez-en un nouveau.',
  'Send the partner API key in x-api-key.': 'Envoyez la clé d’API partenaire dans x-api-key.',
  'The API key is not valid.': 'La clé d’API n’est pas valide.',
  'This request already issued a key; its secrets are shown once only. Rotate it to get new ones.':
    'Cette requête a déjà émis une clé ; ses secrets ne s’affichent qu’une fois. Faites-la tourner pour en obtenir de nouveaux.',
  'There is no such key.': 'Cette clé n’existe pas.',
  'This key is ${status}; rotate its live successor.':
    'Cette clé est ${status} ; faites tourner sa remplaçante active.',
  'The signature is not valid.': 'La signature n’est pas valide.',
  'This signed request was already received.': 'Cette requête signée a déjà été reçue.',
  'This key lacks the scope ${requirement.scope}.': 'Cette clé n’a pas la portée ${requirement.scope}.',
  'Too many sign-ins at once; retry shortly.': 'Trop de connexions simultanées ; réessayez dans un instant.',
  'The account no longer exists.': 'Le compte n’existe plus.',
  'Sign in with your password to delete this account.':
    'Connectez-vous avec votre mot de passe pour supprimer ce compte.',
  'The password is wrong.': 'Le mot de passe est incorrect.',
  'This number belongs to another account.': 'Ce numéro appartient à un autre compte.',
  'Keep at most ${MAX_ADDRESSES} addresses.': 'Gardez au plus ${MAX_ADDRESSES} adresses.',
  'No such address.': 'Cette adresse n’existe pas.',
  'The quiet hours name an unknown time zone.': 'Les heures calmes désignent un fuseau horaire inconnu.',
  'Quiet hours start and end at the same time; send null for none.':
    'Les heures calmes commencent et finissent à la même heure ; envoyez null pour n’en avoir aucune.',
  'No such active session.': 'Aucune session active de ce nom.',
  'Send the refresh token in the body or the cookie.':
    'Envoyez le jeton de renouvellement dans le corps ou le cookie.',
  'Confirm the deletion with your password.': 'Confirmez la suppression avec votre mot de passe.',
  "Unknown or no fields: ${selection.unknown.join(', ')}.":
    "Champs inconnus ou absents : ${selection.unknown.join(', ')}.",
  'Two-factor authentication is mandatory for admins.':
    'La double authentification est obligatoire pour les administrateurs.',
  'Send the current code of your authenticator app.':
    'Envoyez le code actuel de votre application d’authentification.',
  'Send your password to confirm.': 'Envoyez votre mot de passe pour confirmer.',
  'The refresh token is not valid.': 'Le jeton de renouvellement n’est pas valide.',
  'This refresh token was already used; the session has been ended.':
    'Ce jeton de renouvellement a déjà servi ; la session a été fermée.',
  'The session has expired; log in again.': 'La session a expiré ; reconnectez-vous.',
  'The session has ended; log in again.': 'La session est terminée ; reconnectez-vous.',
  'The session has ended.': 'La session est terminée.',
  'This route needs a signed request (x-signature-* headers).':
    'Cette route demande une requête signée (en-têtes x-signature-*).',
  'The signature timestamp is too far from the server clock.':
    'L’horodatage de la signature est trop éloigné de l’horloge du serveur.',
  'The nonce must be 16-64 URL-safe characters.':
    'Le nonce doit compter de 16 à 64 caractères sûrs pour une URL.',
  'No more codes can be sent for now; retry later.':
    'Plus aucun code ne peut être envoyé pour le moment ; réessayez plus tard.',
  '${provider} did not authorise the sign-in (${error.error}).':
    '${provider} n’a pas autorisé la connexion (${error.error}).',
  '${provider} refused the authorisation code (${error.error}); start the sign-in again.':
    '${provider} a refusé le code d’autorisation (${error.error}) ; recommencez la connexion.',
  '${provider} refused the authorisation code (HTTP ${cause.status}); start the sign-in again.':
    '${provider} a refusé le code d’autorisation (HTTP ${cause.status}) ; recommencez la connexion.',
  'The answer of ${provider} failed validation; start the sign-in again.':
    'La réponse de ${provider} n’a pas passé la validation ; recommencez la connexion.',
  '${provider} could not be reached.': '${provider} est injoignable.',
  'No ID token.': 'Aucun jeton d’identité.',
  'Facebook named nobody.': 'Facebook n’a désigné personne.',
  'The sign-in ticket is unknown, used or expired; start the sign-in again.':
    'Le ticket de connexion est inconnu, déjà utilisé ou expiré ; recommencez la connexion.',
  'Sign-in with ${name} is not available.': 'La connexion avec ${name} n’est pas disponible.',
  'This account is closed.': 'Ce compte est fermé.',
  'This account is already linked to another ${ticket.provider} account; unlink it first.':
    'Ce compte est déjà lié à un autre compte ${ticket.provider} ; déliez-le d’abord.',
  'An account was created for this phone number a moment ago by another sign-in; start the sign-in again to link to it.':
    'Un compte vient d’être créé pour ce numéro par une autre connexion ; recommencez la connexion pour vous y lier.',
  'This ${ticket.provider} account is already linked; start the sign-in again.':
    'Ce compte ${ticket.provider} est déjà lié ; recommencez la connexion.',
  'The sign-in state is unknown, used or expired; start the sign-in again.':
    'L’état de connexion est inconnu, déjà utilisé ou expiré ; recommencez la connexion.',
  'Verify your e-mail address at ${name} first, then sign in again.':
    'Vérifiez d’abord votre adresse e-mail chez ${name}, puis reconnectez-vous.',
  'Name your phone number first (POST /v1/auth/social/phone); its SMS code completes the sign-in.':
    'Indiquez d’abord votre numéro de téléphone (POST /v1/auth/social/phone) ; son code SMS termine la connexion.',
  'Send the SMS code in `code`.': 'Envoyez le code SMS dans `code`.',
  'No ${name} account is linked.': 'Aucun compte ${name} n’est lié.',
  '${name} is your only way to sign in: set a password first (POST /v1/auth/password/forgot sends a link).':
    '${name} est votre seul moyen de connexion : choisissez d’abord un mot de passe (POST /v1/auth/password/forgot envoie un lien).',
  'Two-factor authentication is already on; disable it first.':
    'La double authentification est déjà active ; désactivez-la d’abord.',
  'Call POST /v1/auth/2fa/setup first.': 'Appelez d’abord POST /v1/auth/2fa/setup.',
  'Two-factor authentication is already on.': 'La double authentification est déjà active.',
  'The code is wrong; check the clock of your device.':
    'Le code est incorrect ; vérifiez l’horloge de votre appareil.',
  'No ledger account ${accountId}.': 'Aucun compte du grand livre ${accountId}.',
  'A report covers at most ${MAX_REPORT_DAYS} days, from before to.':
    'Un rapport couvre au plus ${MAX_REPORT_DAYS} jours, from avant to.',
  'An amount exceeds what JSON carries exactly.': 'Un montant dépasse ce que JSON représente exactement.',
  'The cursor is malformed.': 'Le curseur est mal formé.',
  'An export covers at most ${MAX_EXPORT_DAYS} days, from before to.':
    'Un export couvre au plus ${MAX_EXPORT_DAYS} jours, from avant to.',
  'The page cursor is not one this API issued.': 'Le curseur de page n’a pas été émis par cette API.',
  'There is no such restaurant.': 'Ce restaurant n’existe pas.',
  'Only the restaurant’s owner may do this.': 'Seul le propriétaire du restaurant peut faire cela.',
  "The coupon is not valid: ${problems.join('; ')}.": "Le coupon n’est pas valide : ${problems.join('; ')}.",
  'A restaurant’s coupon names its restaurant (restaurantId).':
    'Le coupon d’un restaurant nomme son restaurant (restaurantId).',
  'Another coupon already has this code.': 'Un autre coupon a déjà ce code.',
  'There is no such coupon.': 'Ce coupon n’existe pas.',
  'Name your restaurant (restaurantId).': 'Nommez votre restaurant (restaurantId).',
  "The promotion is not valid: ${problems.join('; ')}.":
    "La promotion n’est pas valide : ${problems.join('; ')}.",
  'A restaurant’s promotion names its restaurant.': 'La promotion d’un restaurant nomme son restaurant.',
  'There is no such promotion.': 'Cette promotion n’existe pas.',
  'No customer has this referral code.': 'Aucun client n’a ce code de parrainage.',
  'A customer cannot use their own code.': 'Un client ne peut pas utiliser son propre code.',
  'A referral rewards a first order; this customer already completed one.':
    'Un parrainage récompense une première commande ; ce client en a déjà terminé une.',
  'This customer was already referred with another code.':
    'Ce client a déjà été parrainé avec un autre code.',
  'The status callback is not signed by Twilio.': 'Le rappel de statut n’est pas signé par Twilio.',
  'The delivery report does not carry this service’s callback token.':
    'L’accusé de livraison ne porte pas le jeton de rappel de ce service.',
  'An account registers at most 10 devices.': 'Un compte enregistre au plus 10 appareils.',
  'There is no such device among yours.': 'Cet appareil ne fait pas partie des vôtres.',
  'There is no such notification among yours.': 'Cette notification ne fait pas partie des vôtres.',
  '${name} must be a UUID.': '${name} doit être un UUID.',
  'kind is restaurant or customer.': 'kind vaut restaurant ou customer.',
  'Support notices name UUIDs.': 'Les avis au support désignent des UUID.',
  'Community notices name UUIDs.': 'Les avis de commandes groupées désignent des UUID.',
  'Newsletter messages name UUIDs.': 'Les messages d’une lettre d’information désignent des UUID.',
  '`from` must be a date-time before `to`.': '`from` doit être une date-heure antérieure à `to`.',
  'The period is at most 93 days.': 'La période couvre au plus 93 jours.',
  'X-Cart-Token is not a token this API gave out.': 'X-Cart-Token n’est pas un jeton émis par cette API.',
  'A cart with items names its restaurant.': 'Un panier non vide nomme son restaurant.',
  'A quantity is 1 to ${MAX_CART_QUANTITY}.': 'Une quantité va de 1 à ${MAX_CART_QUANTITY}.',
  'At most ${MAX_OPTIONS_PER_LINE} options per line.': 'Au plus ${MAX_OPTIONS_PER_LINE} options par ligne.',
  'A cart holds at most ${MAX_CART_LINES} lines.': 'Un panier compte au plus ${MAX_CART_LINES} lignes.',
  "The cart holds another restaurant's items; send replaceCart: true to start over.":
    'Le panier contient les plats d’un autre restaurant ; envoyez replaceCart: true pour recommencer.',
  'There is no such order.': 'Cette commande n’existe pas.',
  '${command.type} is not possible while the order is ${state.status}.':
    '${command.type} n’est pas possible tant que la commande est ${state.status}.',
  'A reason of 1-${MAX_REASON_LENGTH} characters is required.':
    'Une raison de 1 à ${MAX_REASON_LENGTH} caractères est obligatoire.',
  'amounts are non-negative integers': 'les montants sont des entiers positifs ou nuls',
  'the lines do not add up to the subtotal': 'les lignes ne font pas le sous-total',
  'a discount is at most the food it discounts':
    'une remise ne dépasse pas le montant des plats qu’elle concerne',
  'the parts do not add up to the total': 'les composantes ne font pas le total',
  'an order has at least one line': 'une commande a au moins une ligne',
  'A ${by.role} cannot cancel an order that is ${status}.':
    'Un ${by.role} ne peut pas annuler une commande ${status}.',
  '${what} is due at ${new Date(dueMs).toISOString()}.':
    '${what} est prévu à ${new Date(dueMs).toISOString()}.',
  'Only the driver who claimed the order ${handover.verb}.':
    'Seul le livreur qui a pris la commande ${handover.verb}.',
  '${what}; the next try is possible at ${lockedUntil}.':
    '${what} ; le prochain essai est possible à ${lockedUntil}.',
  'Another driver has this order.': 'Un autre livreur a cette commande.',
  'Only the driver who claimed the order reports a failure.':
    'Seul le livreur qui a pris la commande signale un échec.',
  'Preparation takes 1-${MAX_PREPARATION_MINUTES} minutes.':
    'La préparation prend de 1 à ${MAX_PREPARATION_MINUTES} minutes.',
  'The captured amount ${command.data.amountMinor} is not the order total ${order.pricing.totalMinor}.':
    'Le montant encaissé ${command.data.amountMinor} n’est pas le total de la commande ${order.pricing.totalMinor}.',
  'Disputes closed at ${new Date(closes).toISOString()}.':
    'Les litiges ont fermé le ${new Date(closes).toISOString()}.',
  'The refund is 0 to ${refundable} XAF.': 'Le remboursement va de 0 à ${refundable} XAF.',
  'A remedy is a positive amount its shares add up to.':
    'Un geste est un montant positif auquel ses parts s’additionnent.',
  'This amount converts to less than one franc.': 'Ce montant vaut moins d’un franc une fois converti.',
  'The coupon cannot be used: ${result.reason}.': 'Le coupon ne peut pas être utilisé : ${result.reason}.',
  'Points may pay at most ${maxSharePercent} % of the food (after a coupon): ${maxPoints} points for this order.':
    'Les points paient au plus ${maxSharePercent} % des plats (après un coupon) : ${maxPoints} points pour cette commande.',
  'You do not have that many points.': 'Vous n’avez pas autant de points.',
  'A scheduled order is ${schedule.minLeadMinutes} minutes to ${schedule.maxDays} days ahead.':
    'Une commande programmée se passe de ${schedule.minLeadMinutes} minutes à ${schedule.maxDays} jours à l’avance.',
  'The restaurant cannot deliver this order (${delivery.reason}).':
    'Le restaurant ne peut pas livrer cette commande (${delivery.reason}).',
  'Some items cannot be ordered now.': 'Certains plats ne peuvent pas être commandés maintenant.',
  'distanceMetres must be an integer in [0, ${MAX_DELIVERY_DISTANCE_METRES}]':
    'distanceMetres doit être un entier dans [0, ${MAX_DELIVERY_DISTANCE_METRES}]',
  'tax rate must be 0-100': 'le taux de taxe doit aller de 0 à 100',
  'tax rate ${text} has more than 4 decimals': 'le taux de taxe ${text} a plus de 4 décimales',
  'tax rate must be a decimal string in [0, 100]: "${ratePercent}"':
    'le taux de taxe doit être un nombre décimal dans [0, 100] : « ${ratePercent} »',
  'the taxed amount must not be negative': 'le montant taxé ne doit pas être négatif',
  'a discount must not be negative': 'une remise ne doit pas être négative',
  'unknown discount ${JSON.stringify(exhaustive)}': 'remise inconnue ${JSON.stringify(exhaustive)}',
  'a discount base is part of the subtotal': 'la base d’une remise fait partie du sous-total',
  'points pay at most the food the other discount left':
    'les points paient au plus les plats que l’autre remise a laissés',
  'quantity must be an integer from 1 to ${MAX_QUANTITY_PER_LINE}':
    'la quantité doit être un entier de 1 à ${MAX_QUANTITY_PER_LINE}',
  'at most ${MAX_MODIFIERS_PER_LINE} modifiers per line':
    'au plus ${MAX_MODIFIERS_PER_LINE} options par ligne',
  'a price must not be negative': 'un prix ne doit pas être négatif',
  'a modifier price must not be negative': 'le prix d’une option ne doit pas être négatif',
  'an order has 1 to ${MAX_LINES_PER_ORDER} lines': 'une commande a de 1 à ${MAX_LINES_PER_ORDER} lignes',
  'the tip must be 0 to ${MAX_TIP_XAF} XAF': 'le pourboire va de 0 à ${MAX_TIP_XAF} XAF',
  'an order total is at most ${MAX_ORDER_TOTAL_XAF} XAF':
    'le total d’une commande est d’au plus ${MAX_ORDER_TOTAL_XAF} XAF',
  'Send the tracking token as ?token=.': 'Envoyez le jeton de suivi en ?token=.',
  'The cursor is not one this API gave out.': 'Ce curseur n’a pas été émis par cette API.',
  'The restaurant does not deliver to this zone.': 'Le restaurant ne livre pas dans cette zone.',
  'The restaurant does not deliver to this point (outside its own delivery area).':
    'Le restaurant ne livre pas à cet endroit (hors de sa propre zone de livraison).',
  'This restaurant has no delivery area of its own; it delivers within its radius.':
    'Ce restaurant n’a pas de zone de livraison propre ; il livre dans son rayon.',
  "These are not zones of the restaurant's city: ${unknown.join(', ')}.":
    "Ces zones n’appartiennent pas à la ville du restaurant : ${unknown.join(', ')}.",
  'from must be on or before to, at most ${MAX_ZONE_STATS_DAYS} days apart.':
    'from doit précéder to ou lui être égal, au plus ${MAX_ZONE_STATS_DAYS} jours d’écart.',
  'There is no such restaurant of yours.': 'Vous n’avez pas de restaurant de ce nom.',
  'The wallet could not pay this order; nothing was taken. Top up or pay by Mobile Money with a new order.':
    'Le portefeuille n’a pas pu payer cette commande ; rien n’a été prélevé. Rechargez-le ou payez par Mobile Money avec une nouvelle commande.',
  'The total is now ${quote.totalMinor} XAF, not ${expectedTotalMinor}; nothing was placed. Send it again with the new total to confirm.':
    'Le total est maintenant de ${quote.totalMinor} XAF, et non ${expectedTotalMinor} ; rien n’a été commandé. Renvoyez-la avec le nouveau total pour confirmer.',
  'composedAt is in the future.': 'composedAt est dans le futur.',
  'This order was composed more than 7 days ago; compose it again with today’s menu.':
    'Cette commande a été composée il y a plus de 7 jours ; composez-la de nouveau avec la carte du jour.',
  "As ${relation === 'prospect' ? 'a driver' : `the ${relation}`} you cannot ${transition.path} this order.":
    "En tant que ${relation === 'prospect' ? 'a driver' : `the ${relation}`}, vous ne pouvez pas faire ${transition.path} sur cette commande.",
  'Payments are not configured on this server.': 'Les paiements ne sont pas configurés sur ce serveur.',
  'Some items sold out meanwhile.': 'Certains plats ont été épuisés entre-temps.',
  'This tracking link is not valid.': 'Ce lien de suivi n’est pas valide.',
  'This tracking link has expired.': 'Ce lien de suivi a expiré.',
  'The card provider cannot be reached; try again.': 'Le prestataire de cartes est injoignable ; réessayez.',
  'The card provider answered something unusable.':
    'Le prestataire de cartes a répondu quelque chose d’inutilisable.',
  'Card funding is not available here.': 'L’approvisionnement par carte n’est pas disponible ici.',
  'No customer with a verified phone can receive card funding at this number.':
    'Aucun client au téléphone vérifié ne peut recevoir d’approvisionnement par carte à ce numéro.',
  'This customer does not accept funding from you.':
    'Ce client n’accepte pas d’approvisionnement de votre part.',
  'The recipient must first accept funding from you (they were asked in their wallet); try again once they have.':
    'Le destinataire doit d’abord accepter votre approvisionnement (la demande est dans son portefeuille) ; réessayez ensuite.',
  'This is more than one card funding may bring.':
    'C’est plus qu’un approvisionnement par carte ne peut apporter.',
  'This would pass the daily card funding limit.':
    'Cela dépasserait la limite quotidienne d’approvisionnement par carte.',
  'This wallet is frozen: it cannot be funded now.':
    'Ce portefeuille est gelé : il ne peut pas être approvisionné maintenant.',
  'There is no such card funding.': 'Cet approvisionnement par carte n’existe pas.',
  'The webhook is not signed by the provider.': 'Le webhook n’est pas signé par le prestataire.',
  'This person never asked to fund your wallet.':
    'Cette personne n’a jamais demandé à approvisionner votre portefeuille.',
  'There is no such conversion quote of yours.': 'Vous n’avez pas de devis de conversion de ce nom.',
  'Currency conversion is not available here.': 'La conversion de devises n’est pas disponible ici.',
  'No exchange rate can be had now; retry.':
    'Aucun taux de change n’est disponible pour le moment ; réessayez.',
  'This amount converts to less than one franc after the spread.':
    'Ce montant donne moins d’un franc après la marge.',
  'This quote expired before it was accepted; ask a new one.':
    'Ce devis a expiré avant d’être accepté ; demandez-en un nouveau.',
  'This wallet is frozen: nothing can be converted.':
    'Ce portefeuille est gelé : rien ne peut être converti.',
  'The USD wallet does not hold this amount. Nothing was converted.':
    'Le portefeuille USD ne détient pas ce montant. Rien n’a été converti.',
  'There is no such payment.': 'Ce paiement n’existe pas.',
  'The webhook signature does not verify.': 'La signature du webhook ne se vérifie pas.',
  'Give an MTN or Orange Mobile Money number from Cameroon.':
    'Donnez un numéro Mobile Money MTN ou Orange du Cameroun.',
  'This number is an ${operator} number, not ${input.operator}.':
    'Ce numéro est un numéro ${operator}, pas ${input.operator}.',
  'A Mobile Money payment is 100 to ${MAX_PAYMENT_MINOR} XAF.':
    'Un paiement Mobile Money va de 100 à ${MAX_PAYMENT_MINOR} XAF.',
  'The payment provider refused the request': 'Le prestataire de paiement a refusé la demande',
  'A restaurant payout names its restaurantId.': 'Un versement à un restaurant nomme son restaurantId.',
  'A payout is at least ${MIN_PAYOUT_MINOR} XAF.': 'Un versement est d’au moins ${MIN_PAYOUT_MINOR} XAF.',
  'Payouts go to a verified MTN or Orange Mobile Money number; verify yours first.':
    'Les versements vont à un numéro Mobile Money MTN ou Orange vérifié ; vérifiez d’abord le vôtre.',
  'No provider serves this number.': 'Aucun prestataire ne dessert ce numéro.',
  'At most ${shown} XAF can be paid out now.': 'Au plus ${shown} XAF peuvent être versés maintenant.',
  'Payouts are paused for this provider; try again later.':
    'Les versements sont suspendus pour ce prestataire ; réessayez plus tard.',
  'Payouts to this payee are on hold (an admin or a fraud review); an admin releases the hold.':
    'Les versements à ce bénéficiaire sont retenus (par un administrateur ou un examen de fraude) ; un administrateur lève la retenue.',
  'There is no such payout.': 'Ce versement n’existe pas.',
  'The payout is already ${row.status}.': 'Le versement est déjà ${row.status}.',
  'The payout is ${row.status}.': 'Le versement est ${row.status}.',
  'No payment provider is reachable; try again later':
    'Aucun prestataire de paiement n’est joignable ; réessayez plus tard',
  'Card funding is not configured here.': 'L’approvisionnement par carte n’est pas configuré ici.',
  'A run covers a period of at most 31 days, from before to.':
    'Un rapprochement couvre une période de 31 jours au plus, from avant to.',
  'The card provider could not give its transactions; the run failed, try again.':
    'Le prestataire de cartes n’a pas pu donner ses transactions ; le rapprochement a échoué, réessayez.',
  'There is no such reconciliation run.': 'Ce rapprochement n’existe pas.',
  'A ${item.status} item needs no correction.': 'Un élément ${item.status} n’a pas besoin de correction.',
  'There is no such item.': 'Cet élément n’existe pas.',
  'This item was already resolved.': 'Cet élément a déjà été résolu.',
  'You fund no wallet of this person (they have not accepted your funding).':
    'Vous n’approvisionnez aucun portefeuille de cette personne (elle n’a pas accepté votre approvisionnement).',
  'Send categoryControls.': 'Envoyez categoryControls.',
  'This key was used with another request.': 'Cette clé a servi pour une autre requête.',
  'This rate is already the one in force then: nothing to change.':
    'Ce taux est déjà celui en vigueur à cette date : rien à changer.',
  'There is no such commission change.': 'Ce changement de commission n’existe pas.',
  'This change has taken effect; set a new rate instead.':
    'Ce changement a pris effet ; fixez plutôt un nouveau taux.',
  'Name the restaurantId.': 'Nommez le restaurantId.',
  'Only drivers have driver earnings.': 'Seuls les livreurs ont des gains de livreur.',
  'The order is ${state.status}.': 'La commande est ${state.status}.',
  'This wallet is frozen; contact support.': 'Ce portefeuille est gelé ; contactez le support.',
  'There is no such payment provider.': 'Ce prestataire de paiement n’existe pas.',
  'Invalid phone number. Phone number must start with 237':
    'Numéro de téléphone invalide. Le numéro doit commencer par 237',
  'Unsupported carrier. Only MTN and Orange are supported':
    'Opérateur non pris en charge. Seuls MTN et Orange sont pris en charge',
  'Invalid amount. Decimal numbers are not allowed':
    'Montant invalide. Les nombres décimaux ne sont pas acceptés',
  'Insufficient balance': 'Solde insuffisant',
  'This top-up would pass your daily or monthly limit.':
    'Cette recharge dépasserait votre limite quotidienne ou mensuelle.',
  'The person who funds this wallet set its spending controls; they can change them, or you can stop their funding.':
    'La personne qui approvisionne ce portefeuille a fixé ses contrôles de dépenses ; elle peut les changer, ou vous pouvez arrêter son approvisionnement.',
  "Limits are at most ${platform.daily} a day and ${platform.monthly} a month, and a day's at most the month's.":
    'Les limites sont d’au plus ${platform.daily} par jour et ${platform.monthly} par mois, et celle du jour ne dépasse pas celle du mois.',
  'Automatic top-ups are Mobile Money, in XAF only.':
    'Les recharges automatiques se font par Mobile Money, en XAF uniquement.',
  'An automatic top-up needs thresholdMinor, amountMinor and phone.':
    'Une recharge automatique demande thresholdMinor, amountMinor et phone.',
  'No projection named ${name}.': 'Aucune projection ne s’appelle ${name}.',
  'date must be a calendar day, YYYY-MM-DD.': 'date doit être un jour du calendrier, AAAA-MM-JJ.',
  'A forecast covers a day from ${FORECAST_PAST_DAYS} days ago to tomorrow.':
    'Une prévision couvre un jour d’il y a ${FORECAST_PAST_DAYS} jours à demain.',
  'No experiment is named ${key}.': 'Aucune expérience ne s’appelle ${key}.',
  "No code serves an experiment named ${input.key}; served: ${Object.keys(SERVED_EXPERIMENTS).join(', ')}.":
    "Aucun code ne sert d’expérience nommée ${input.key} ; servies : ${Object.keys(SERVED_EXPERIMENTS).join(', ')}.",
  'The control "${input.control}" must be one of the variants.':
    'Le témoin « ${input.control} » doit être l’une des variantes.',
  'hours is 1-6 and limit 1-50.': 'hours va de 1 à 6 et limit de 1 à 50.',
  'Give lat and lng (a guest is recommended dishes near a place), or sign in.':
    'Donnez lat et lng (un invité reçoit des plats recommandés près d’un lieu), ou connectez-vous.',
  'The ${field} holds only spaces.': 'Le champ ${field} ne contient que des espaces.',
  'There is no such canned response.': 'Cette réponse type n’existe pas.',
  'There is no team mapping for this category and city.':
    'Aucune équipe n’est associée à cette catégorie et à cette ville.',
  'There is no such city.': 'Cette ville n’existe pas.',
  'Only a supervisor writes canned responses.': 'Seul un superviseur écrit des réponses types.',
  'A language holds at most ${CANNED_MAX} canned responses; archive or change one.':
    'Une langue compte au plus ${CANNED_MAX} réponses types ; archivez-en ou modifiez-en une.',
  'A canned response with this shortcut exists in this language; change it instead.':
    'Une réponse type avec ce raccourci existe dans cette langue ; modifiez-la plutôt.',
  'The canned response changed meanwhile; reload it and retry.':
    'La réponse type a changé entre-temps ; rechargez-la puis réessayez.',
  'body must be a non-empty string.': 'body doit être un texte non vide.',
  'The text holds a NUL or a lone surrogate.':
    'Le texte contient un caractère NUL ou un demi-caractère isolé.',
  'attachments must be at most ${ATTACHMENTS_MAX} file ids.':
    'attachments compte au plus ${ATTACHMENTS_MAX} identifiants de fichier.',
  'This connection cannot chat on ${side.path}.': 'Cette connexion ne peut pas discuter sur ${side.path}.',
  'The inbound e-mail is not signed by Mailgun with our key, or the signature is too old.':
    'L’e-mail entrant n’est pas signé par Mailgun avec notre clé, ou la signature est trop ancienne.',
  'There is no such article among those you may see.':
    'Aucun article de ce nom parmi ceux que vous pouvez voir.',
  'An article with this slug exists in this language.': 'Un article avec ce slug existe dans cette langue.',
  'The article changed meanwhile; reload it and retry.':
    'L’article a changé entre-temps ; rechargez-le puis réessayez.',
  'There is no such ticket among those you may see.':
    'Aucun ticket de ce nom parmi ceux que vous pouvez voir.',
  'Tickets are opened by customers, restaurant owners and drivers.':
    'Les tickets sont ouverts par les clients, les restaurateurs et les livreurs.',
  'At most ${ATTACHMENTS_MAX} attachments.': 'Au plus ${ATTACHMENTS_MAX} pièces jointes.',
  'An attachment is no file you may read.': 'Une pièce jointe n’est pas un fichier que vous pouvez lire.',
  'Only support staff write internal notes.': 'Seule l’équipe du support écrit des notes internes.',
  'A ${row.status} ticket takes no message; reopen it first.':
    'Un ticket ${row.status} ne prend pas de message ; rouvrez-le d’abord.',
  'Send `body` or `cannedResponseId`.': 'Envoyez `body` ou `cannedResponseId`.',
  'Send `body` or `cannedResponseId`, not both.': 'Envoyez `body` ou `cannedResponseId`, pas les deux.',
  'Only support staff send canned responses.': 'Seule l’équipe du support envoie des réponses types.',
  'There is no such message on this ticket.': 'Ce message n’existe pas sur ce ticket.',
  'Nobody writes on a ${row.status} ticket.': 'Personne n’écrit sur un ticket ${row.status}.',
  'The ticket changed meanwhile; reload it and retry.':
    'Le ticket a changé entre-temps ; rechargez-le puis réessayez.',
  'Only a supervisor moves an escalated ticket on.': 'Seul un superviseur fait avancer un ticket remonté.',
  'The ticket could be reopened until ${refusal.closedAt.toISOString()}.':
    'Le ticket pouvait être rouvert jusqu’au ${refusal.closedAt.toISOString()}.',
  'The ticket is already ${to}.': 'Le ticket est déjà ${to}.',
  'A ${from} ticket cannot become ${to} by you.':
    'Vous ne pouvez pas faire passer un ticket ${from} à ${to}.',
  'The assignee is no support agent.': 'La personne assignée n’est pas un agent du support.',
  'A closed ticket is not assigned; reopen it first.':
    'Un ticket fermé n’est pas assigné ; rouvrez-le d’abord.',
  'A ${row.status} ticket is not escalated.': 'Un ticket ${row.status} n’est pas remonté.',
  'The person is no support agent.': 'Cette personne n’est pas un agent du support.',
  'Only the opener of an order-problem ticket about an order opens its dispute.':
    'Seul l’auteur d’un ticket de problème de commande ouvre le litige de cette commande.',
  'Only the order’s customer opens its dispute.': 'Seul le client de la commande ouvre son litige.',
  'The period is at most ${METRICS_PERIOD_MAX_DAYS} days.':
    'La période couvre au plus ${METRICS_PERIOD_MAX_DAYS} jours.',
  'The inbound SMS is not signed by Twilio.': 'Le SMS entrant n’est pas signé par Twilio.',
  'This address may not call the USSD callback.': 'Cette adresse ne peut pas appeler le rappel USSD.',
  'The USSD callback key is missing or wrong.': 'La clé du rappel USSD est absente ou incorrecte.',
  'from must be a valid phone number': 'from doit être un numéro de téléphone valide',
  'From must be a valid phone number': 'From doit être un numéro de téléphone valide',
  'The total is now ${Number(quoted.pricing.totalMinor)} XAF, not ${expectedTotalMinor}; nothing was placed.':
    'Le total est maintenant de ${Number(quoted.pricing.totalMinor)} XAF, et non ${expectedTotalMinor} ; rien n’a été passé.',
  'This session is busy; try again.': 'Cette session est occupée ; réessayez.',
  'Too many live connections; retry shortly.': 'Trop de connexions en direct ; réessayez dans un instant.',
  'The application needs a ${problem.kind} document for this vehicle.':
    'La candidature demande un document ${problem.kind} pour ce véhicule.',
  'A rejection or a request for more needs a reason the applicant will read.':
    'Un refus ou une demande de compléments demande une raison que le candidat lira.',
  'Too many codes were sent to this number; retry later.':
    'Trop de codes ont été envoyés à ce numéro ; réessayez plus tard.',
  'Too many codes were requested from this network; retry later.':
    'Trop de codes ont été demandés depuis ce réseau ; réessayez plus tard.',
  "The customer's delivery PIN is wrong (${triesLeft(attemptsLeft)}).":
    'Le code de livraison du client est incorrect (${triesLeft(attemptsLeft)}).',
  "The customer's delivery PIN is wrong; no tries left for now.":
    'Le code de livraison du client est incorrect ; plus aucun essai pour le moment.',
  'The pickup code is wrong (${triesLeft(attemptsLeft)}).':
    'Le code de retrait est incorrect (${triesLeft(attemptsLeft)}).',
  'The pickup code is wrong; no tries left for now.':
    'Le code de retrait est incorrect ; plus aucun essai pour le moment.',
  'The payment provider answered something we cannot read; try again later.':
    'Le prestataire de paiement a répondu quelque chose d’illisible ; réessayez plus tard.',
  'No payment provider is reachable; try again later.':
    'Aucun prestataire de paiement n’est joignable ; réessayez plus tard.',
  'effectiveFrom is in the past: a change takes effect now or later.':
    'effectiveFrom est dans le passé : un changement prend effet maintenant ou plus tard.',
  'effectiveFrom is more than a year ahead.': 'effectiveFrom est à plus d’un an.',
  'Experiment ${input.key} is running with another definition: stop it first.':
    'L’expérience ${input.key} tourne avec une autre définition : arrêtez-la d’abord.',
  'Experiment ${input.key} ran and was stopped; its figures stay. Results are per key: an experiment runs once.':
    'L’expérience ${input.key} a tourné puis a été arrêtée ; ses chiffres restent. Les résultats sont par clé : une expérience ne tourne qu’une fois.',
  'a delivery discount is at most the delivery fee':
    'une remise sur la livraison ne dépasse pas les frais de livraison',
  'Another order took your last free delivery of the month; place the order again.':
    'Une autre commande a pris votre dernière livraison gratuite du mois ; passez de nouveau la commande.',
  'from and to are days, YYYY-MM-DD.': 'from et to sont des jours au format AAAA-MM-JJ.',
  'from and to must be real days.': 'from et to doivent être des jours qui existent.',
  'from must be on or before to, at most ${ANALYTICS_RANGE_MAX_DAYS} days.':
    'from doit tomber le jour de to ou avant, à ${ANALYTICS_RANGE_MAX_DAYS} jours d’écart au plus.',
  '${field} is blank or holds control characters.':
    '${field} est vide ou contient des caractères de contrôle.',
  'No such partnership request.': 'Cette demande de partenariat n’existe pas.',
  'The request was already reviewed.': 'La demande a déjà été examinée.',
  'There is no such ${input.payeeKind}.': 'Ce ${input.payeeKind} n’existe pas.',
  'This payee is already on hold.': 'Ce bénéficiaire fait déjà l’objet d’une retenue.',
  'No such withdrawal hold.': 'Cette retenue des retraits n’existe pas.',
  'At most ${MAX_ZONES_PER_CITY} zones per city.': 'Au plus ${MAX_ZONES_PER_CITY} zones par ville.',
  'The zone ${zone.id} already exists; update it instead.':
    'La zone ${zone.id} existe déjà ; modifiez-la plutôt.',
  'No such zone.': 'Cette zone n’existe pas.',
  'There is no such dish on a menu.': 'Ce plat ne figure sur aucune carte.',
  'At most ${MAX_FAVOURITES_PER_KIND} favourites of each kind; remove one first.':
    'Au plus ${MAX_FAVOURITES_PER_KIND} favoris de chaque type ; retirez-en un d’abord.',
  'This dish is not one of your favourites.': 'Ce plat ne fait pas partie de vos favoris.',
  'This dish cannot be ordered now.': 'Ce plat ne peut pas être commandé en ce moment.',
  "The cart holds another restaurant's dishes; send replaceCart: true to start over.":
    'Le panier contient les plats d’un autre restaurant ; envoyez replaceCart: true pour recommencer.',
  'This restaurant is not one of your favourites.': 'Ce restaurant ne fait pas partie de vos favoris.',
  'This restaurant takes no orders now.': 'Ce restaurant ne prend pas de commandes en ce moment.',
  'You have not ordered from this restaurant yet; open its menu.':
    'Vous n’avez encore jamais commandé dans ce restaurant ; ouvrez sa carte.',
  'Your cart already holds dishes; send replaceCart: true to replace them.':
    'Votre panier contient déjà des plats ; envoyez replaceCart: true pour les remplacer.',
  'Only the fee of a delivered order whose dispute was resolved is reversed.':
    'Seule la rémunération d’une commande livrée dont le litige a été résolu est annulée.',
  'No driver fee was booked for this order (never delivered, or the ledger statement has not caught up yet).':
    'Aucune rémunération de livreur n’a été comptabilisée pour cette commande (jamais livrée, ou le relevé du grand livre n’est pas encore à jour).',
  'The driver no longer holds the fee (paid out): nothing was reversed. Ask again once they do.':
    'Le livreur ne détient plus cette rémunération (elle a été versée) : rien n’a été annulé. Redemandez quand il la détiendra de nouveau.',
  'Only drivers have a vehicle to maintain.': 'Seuls les livreurs ont un véhicule à entretenir.',
  'The due date is today or later.': 'L’échéance tombe aujourd’hui ou plus tard.',
  'A mileage interval counts from the last service: give its odometer reading.':
    'Un intervalle kilométrique se compte depuis le dernier entretien : donnez le relevé du compteur à cet entretien.',
  'The odometer cannot be below the reading at the last service.':
    'Le compteur ne peut pas indiquer moins que le relevé du dernier entretien.',
  'Only a driver whose application was approved has a vehicle to maintain.':
    'Seul un livreur dont la candidature a été approuvée a un véhicule à entretenir.',
  'There is no such ingredient here.': 'Cet ingrédient n’existe pas ici.',
  'At most ${MAX_INGREDIENTS} ingredients.': 'Au plus ${MAX_INGREDIENTS} ingrédients.',
  'An ingredient of that name exists here.': 'Un ingrédient de ce nom existe déjà ici.',
  'There is no such dish on this menu.': 'Ce plat ne figure pas sur cette carte.',
  'Name each ingredient once.': 'Nommez chaque ingrédient une seule fois.',
  'A lot received today cannot have expired already.':
    'Un lot reçu aujourd’hui ne peut pas être déjà périmé.',
  'Some itemIds are not dishes of the restaurant’s menu.':
    'Certains itemIds ne sont pas des plats de la carte du restaurant.',
  'There is no public profile by this name.': 'Aucun profil public ne porte ce nom.',
  'Some itemIds are not dishes on any menu.': 'Certains itemIds ne sont des plats d’aucune carte.',
  'driverId must be a UUID.': 'driverId doit être un UUID.',
  'An ETA names an order, its customer and a time.':
    'Une heure d’arrivée estimée nomme une commande, son client et une heure.',
  'An emergency names its report and driver.': 'Une urgence nomme son signalement et son livreur.',
  'We do not deliver there now (${terms.refusal}).':
    'Nous ne livrons pas à cet endroit en ce moment (${terms.refusal}).',
  'The restaurant is too far for a delivery in this city (${terms.maxDeliveryDistanceM} m at most).':
    'Le restaurant est trop loin pour une livraison dans cette ville (${terms.maxDeliveryDistanceM} m au plus).',
  'An order in this city is at least ${terms.minimumOrderXaf} XAF of food.':
    'Dans cette ville, une commande compte au moins ${terms.minimumOrderXaf} XAF de plats.',
  'a delivery fee rule is made of integers, base and rate not negative':
    'une règle de frais de livraison se compose d’entiers, base et taux non négatifs',
  'Only a credited card funding can be refunded.':
    'Seul un approvisionnement par carte crédité peut être remboursé.',
  'This is more than is left of the funding to refund.':
    'C’est plus que ce qui reste à rembourser de cet approvisionnement.',
  'The wallet no longer holds this much: refund at most what it holds (a chargeback takes back the rest).':
    'Le portefeuille ne contient plus autant : remboursez au plus ce qu’il contient (une rétrofacturation reprend le reste).',
  'The card provider refused this refund; nothing moved.':
    'Le prestataire de cartes a refusé ce remboursement ; rien n’a bougé.',
  'This refund was asked of the card provider and its answer was lost; finance checks the provider before anything else moves.':
    'Ce remboursement a été demandé au prestataire de cartes et sa réponse a été perdue ; la finance vérifie auprès du prestataire avant tout autre mouvement.',
  'Only a refund whose answer from the card provider was lost can be resolved.':
    'Seul un remboursement dont la réponse du prestataire de cartes a été perdue peut être résolu.',
  'You may grant at most ${refusal.limitMinor} XAF in one remedy; ask a supervisor.':
    'Vous pouvez accorder au plus ${refusal.limitMinor} XAF par geste commercial ; demandez à un superviseur.',
  'The note holds only spaces.': 'La note ne contient que des espaces.',
  'The question holds only spaces.': 'La question ne contient que des espaces.',
  'The note is at most ${REMEDY_NOTE_MAX} characters.':
    'La note compte au plus ${REMEDY_NOTE_MAX} caractères.',
  'At most ${left} XAF of this order is still refundable.':
    'Au plus ${left} XAF de cette commande restent remboursables.',
  'A ticket holds at most ${REMEDIES_PER_TICKET_MAX} remedies.':
    'Un ticket compte au plus ${REMEDIES_PER_TICKET_MAX} gestes commerciaux.',
  "The ${leg}'s balance cannot give back its share now; change the shares.":
    'Le solde du ${leg} ne peut pas rendre sa part maintenant ; modifiez les parts.',
  'Only a refund has shares and a destination.': 'Seul un remboursement a des parts et une destination.',
  'There is no such remedy on this ticket.': 'Ce geste commercial n’existe pas sur ce ticket.',
  'Only the ticket’s opener rates it.': 'Seul l’auteur du ticket peut l’évaluer.',
  'A ticket is rated once it is resolved.': 'Un ticket s’évalue une fois résolu.',
  'This ticket was already rated.': 'Ce ticket a déjà été évalué.',
  'A speed warning names its alert, driver and order, and a speed at or above the limit.':
    'Une alerte de vitesse nomme son alerte, le livreur et la commande, et une vitesse égale ou supérieure à la limite.',
  // Group orders (community, issue #27).
  'There is no such group cart among yours.': 'Aucune commande groupée de ce nom parmi les vôtres.',
  'Only the host may do this.': 'Seul l’hôte peut faire cela.',
  'The group cart is ${cart.status}.': 'La commande groupée est dans l’état ${cart.status}.',
  'You host at most ${maxOpenPerHost} group carts at once.':
    'Vous animez au plus ${maxOpenPerHost} commandes groupées à la fois.',
  'No group cart has this code.': 'Aucune commande groupée n’a ce code.',
  'A group cart has at most ${GROUP_MAX_MEMBERS} members.':
    'Une commande groupée compte au plus ${GROUP_MAX_MEMBERS} membres.',
  'At most ${GROUP_MAX_LINES_PER_MEMBER} lines each.': 'Au plus ${GROUP_MAX_LINES_PER_MEMBER} lignes chacun.',
  "A dish is not on this restaurant's menu.": 'Un plat n’est pas à la carte de ce restaurant.',
  'A dish cannot be ordered now.': 'Un plat ne peut pas être commandé pour le moment.',
  'A group cart holds at most ${GROUP_MAX_LINES} lines.':
    'Une commande groupée contient au plus ${GROUP_MAX_LINES} lignes.',
  'Nobody has added anything yet.': 'Personne n’a encore rien ajouté.',
  'A member changed their lines meanwhile; lock again.':
    'Un membre a modifié ses lignes entre-temps ; verrouillez de nouveau.',
  'You owe nothing towards this group cart.': 'Vous ne devez rien pour cette commande groupée.',
  'This share was refunded.': 'Cette part a été remboursée.',
  'The group cart ended; your share went back to your wallet.':
    'La commande groupée est terminée ; votre part est revenue dans votre portefeuille.',
  'The wallet balance is too low for this share.':
    'Le solde du portefeuille est insuffisant pour cette part.',
  'This share is ${owned.status}.': 'Cette part est dans l’état ${owned.status}.',
  'A share is being paid; try again in a moment.':
    'Une part est en cours de paiement ; réessayez dans un instant.',
  // community's recipe sharing (src/modules/community/recipes.ts)
  'There is no such recipe.': 'Cette recette n’existe pas.',
  'There is no such comment.': 'Ce commentaire n’existe pas.',
  "Only the restaurant's owner (or an admin) may publish or change its recipes.":
    'Seul le propriétaire du restaurant (ou un administrateur) peut publier ou modifier ses recettes.',
  'Every dish must be one of the restaurant’s own dishes.': 'Chaque plat doit être un plat du restaurant.',
  'Only a customer who received an order from this restaurant may rate its recipes.':
    'Seul un client ayant reçu une commande de ce restaurant peut noter ses recettes.',
  'You have already reported this.': 'Vous l’avez déjà signalé.',
  'Send restaurantId or dishId (one of them).': 'Envoyez restaurantId ou dishId (l’un des deux).',
  '${field} is blank.': '${field} est vide.',
  'At most ${COMMENTS_PER_HOUR} comments an hour; wait a little.':
    'Au plus ${COMMENTS_PER_HOUR} commentaires par heure ; patientez un peu.',
  'At most ${REPORTS_PER_HOUR} reports an hour; wait a little.':
    'Au plus ${REPORTS_PER_HOUR} signalements par heure ; patientez un peu.',
  // community's bulk orders (src/modules/community/bulk-orders.ts)
  'There is no such bulk order among yours.': 'Aucune commande en gros de ce nom parmi les vôtres.',
  'The bulk order is ${row.status}.': 'La commande en gros est dans l’état ${row.status}.',
  'The time to answer this bulk order has passed.': 'Le délai de réponse à cette commande en gros est passé.',
  'The time to pay the balance has passed.': 'Le délai de paiement du solde est passé.',
  'The time to pay the deposit has passed.': 'Le délai de paiement de l’acompte est passé.',
  'Another payment of this bulk order is in progress; wait for its outcome.':
    'Un autre paiement de cette commande en gros est en cours ; attendez son issue.',
  'A bulk order is for ${earliestHours} hours to ${policy.maxDays} days ahead.':
    'Une commande en gros est prévue de ${earliestHours} heures à ${policy.maxDays} jours à l’avance.',
  'A dish with the same options is at most 50 portions.':
    'Un plat avec les mêmes options compte au plus 50 portions.',
  'A bulk order holds at least ${policy.minItems} portions.':
    'Une commande en gros contient au moins ${policy.minItems} portions.',
  'The wallet balance is too low for the deposit.':
    'Le solde du portefeuille est insuffisant pour l’acompte.',
  'The wallet balance is too low for the balance.':
    'Le solde du portefeuille est insuffisant pour le solde de la commande.',
  'There is no such restaurant among yours.': 'Ce restaurant ne fait pas partie des vôtres.',
  // admin's promotional slots (src/modules/admin/promo-slots.ts)
  'position is 1 to ${PROMO_POSITIONS}.': 'position va de 1 à ${PROMO_POSITIONS}.',
  'endsAt must be after startsAt.': 'endsAt doit suivre startsAt.',
  'endsAt must be in the future.': 'endsAt doit être dans le futur.',
  'startsAt must not be in the past.': 'startsAt ne doit pas être dans le passé.',
  'A placement runs at most 92 days.': 'Un emplacement dure au plus 92 jours.',
  'A placement starts at most 366 days ahead.': 'Un emplacement commence au plus 366 jours à l’avance.',
  'This position is sold for part of the period.':
    'Cette position est déjà vendue sur une partie de la période.',
  'The restaurant is already on this city’s feed for part of the period.':
    'Le restaurant figure déjà dans le fil de cette ville sur une partie de la période.',
  'No city has this id.': 'Aucune ville n’a cet identifiant.',
  'The restaurant is not active.': 'Le restaurant n’est pas actif.',
  'The restaurant is not in this city; it can only be placed on its own city’s feed.':
    'Le restaurant n’est pas dans cette ville ; il ne peut figurer que dans le fil de sa propre ville.',
  'No such promotional slot.': 'Cet emplacement promotionnel n’existe pas.',
  'The placement was cancelled.': 'L’emplacement a été annulé.',
  'The placement has ended; it is history.': 'L’emplacement est terminé ; il appartient à l’historique.',
  'The placement changed meanwhile; reload it.': 'L’emplacement a changé entre-temps ; rechargez-le.',
  'A running placement keeps its start.': 'Un emplacement en cours garde sa date de début.',
};

/**
 * English phrases that throwers build and pass into a template (a role, a verb phrase, what is
 * due), in French; any other value (an id, a number, a state name) is kept as it is.
 */
export const PROBLEM_VALUES_FR: Readonly<Record<string, string>> = {
  customer: 'client',
  driver: 'livreur',
  restaurant: 'restaurant',
  admin: 'administrateur',
  staff: 'membre de l’équipe',
  system: 'système',
  'a driver': 'livreur',
  'the customer': 'client',
  'the restaurant': 'restaurant',
  'the driver': 'livreur',
  'the staff': 'membre de l’équipe',
  'picks it up': 'la retire',
  'delivers it': 'la livre',
  'send positions': 'envoient des positions',
  'answer offers': 'répondent aux offres',
  'The payment deadline': 'L’échéance du paiement',
  'The automatic rejection': 'Le refus automatique',
  Completion: 'La clôture',
  'Too many wrong pickup codes': 'Trop de codes de retrait incorrects',
  'Too many wrong delivery PINs': 'Trop de codes de livraison incorrects',
};

/**
 * The messages of `errors` lists that contexts build (not schema validation, whose French is in
 * validation-messages.ts), in French; a test renders each source text and checks it translates.
 */
export const PROBLEM_ITEM_MESSAGES_FR: Readonly<Record<string, string>> = {
  // identity's password policy (password-policy.ts, PASSWORD_PROBLEM_TEXT)
  'use at least ${PASSWORD_MIN_LENGTH} characters': 'utilisez au moins ${PASSWORD_MIN_LENGTH} caractères',
  'use at most ${PASSWORD_MAX_LENGTH} characters': 'utilisez au plus ${PASSWORD_MAX_LENGTH} caractères',
  'mix at least three of lower case, upper case, digits and symbols (or two in ${PASSPHRASE_LENGTH}+ characters)':
    'mélangez au moins trois types parmi minuscules, majuscules, chiffres et symboles (ou deux en ${PASSPHRASE_LENGTH} caractères ou plus)',
  'this password is too common': 'ce mot de passe est trop courant',
  'do not use your phone number': 'n’utilisez pas votre numéro de téléphone',
  'avoid long runs of one character': 'évitez les longues suites d’un même caractère',
  // the edge's text guard (text-guard.ts)
  'holds a NUL character or a lone surrogate': 'contient un caractère NUL ou un demi-caractère isolé',
};
