#!/usr/bin/env bash
# Seeds a small demo city through the public API, once (deploy/local/up.sh calls it; .local/seeded marks it
# done): a family with an elder and a toddler, a home-care company with a bathing caregiver, a community canteen,
# a nursery with two classes, and a staff member of Andingmen's four communities. Every organisation is filed and
# approved the way a real one is. Passwords go to .local/secrets/demo (never into the repository).
#
# Usage: seed.sh IDENTITY_URL PROVIDERS_URL NURSERY_URL   (all-in-one: the same URL three times)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
identity=$1 providers=$2 nursery=$3
state="$root/.local"
[[ -f $state/seeded ]] && { echo "demo city: already seeded (accounts in .local/secrets/demo)"; exit 0; }

pw() { head -c 12 /dev/urandom | base64 -w0 | tr -d '/+='; }
# call METHOD URL TOKEN [BODY]: prints the response body; fails on a status of 400 or above.
call() {
    local args=(-sS -X "$1" "$2" -H 'Content-Type: application/json' -w '\n%{http_code}')
    [[ -n $3 ]] && args+=(-H "Authorization: Bearer $3")
    [[ $# -ge 4 ]] && args+=(-d "$4")
    local out status
    out=$(curl "${args[@]}")
    status=${out##*$'\n'}
    out=${out%$'\n'*}
    if ((status >= 400)); then
        echo "seed: $1 $2 answered $status: $out" >&2
        return 1
    fi
    printf '%s' "$out"
}
login() { call POST "$identity/v1/auth/login" "" "{\"phone\":\"$1\",\"password\":\"$2\"}" | jq -r .access_token; }
# organisation PHONE PASSWORD NAME KIND [REGISTRATION]: registers the account, files and approves the
# organisation; prints the account's token.
organisation() {
    call POST "$identity/v1/auth/register/provider" "" \
        "{\"phone\":\"$1\",\"password\":\"$2\",\"org_name\":\"$3\"}" >/dev/null
    local token org reg=null
    token=$(login "$1" "$2")
    [[ $# -ge 5 ]] && reg="\"$5\""
    org=$(call PUT "$providers/v1/providers/me/organisation" "$token" \
        "{\"kind\":\"$4\",\"name\":\"$3\",\"registration_number\":$reg,\"community_id\":110101001,
          \"address\":\"安定门东大街 20 号\",\"location\":{\"lat\":39.9485,\"lon\":116.412}}" | jq -r .id)
    call POST "$providers/v1/providers/organisations/$org/approve" "$admin" >/dev/null
    printf '%s' "$token"
}

admin_phone=$(cut -d: -f1 "$state/secrets/admin")
admin=$(login "$admin_phone" "$(cut -d: -f2- "$state/secrets/admin")")
family_pw=$(pw) provider_pw=$(pw) worker_pw=$(pw) staff_pw=$(pw)

# A family: an 86-year-old mother living alone, and a toddler of 30 months.
call POST "$identity/v1/auth/register" "" "{\"phone\":\"13700000001\",\"password\":\"$family_pw\"}" >/dev/null
family=$(login 13700000001 "$family_pw")
call POST "$identity/v1/recipients" "$family" '{"kind":"elder","name":"王秀英","birth_date":"1940-03-02",
  "community_id":110101001,"gender":"female","ability_level":2,"priority_categories":["living_alone"],
  "diet":["low_salt","soft"],"languages":["mandarin"],"gender_preference":"female",
  "address":"安定门东大街 12 号 3 单元 401","location":{"lat":39.9489,"lon":116.4128},
  "emergency_contacts":[{"name":"王军","phone":"13912345678","relation":"son"}],
  "consents":[{"purpose":"sensitive_storage","text_version":"v1"}]}' >/dev/null
born=$(date -d "-30 months" +%F)
call POST "$identity/v1/recipients" "$family" "{\"kind\":\"child\",\"name\":\"王小明\",\"birth_date\":\"$born\",
  \"community_id\":110101001,\"gender\":\"male\",
  \"consents\":[{\"purpose\":\"sensitive_storage\",\"text_version\":\"v1\"}]}" >/dev/null

# A home-care company and its bathing caregiver.
care=$(organisation 13600000001 "$provider_pw" 安心居家养老 home_care)
worker=$(call POST "$identity/v1/auth/workers" "$care" \
    "{\"phone\":\"13600000002\",\"password\":\"$worker_pw\",\"display_name\":\"周阿姨\"}" | jq -r .id)
call PUT "$providers/v1/providers/workers/$worker" "$care" '{"name":"周阿姨","gender":"female",
  "languages":["mandarin"],"kinds":["bath","cleaning"],"home":{"lat":39.95,"lon":116.41},"radius_km":5,
  "credentials":[{"type":"bathing_certificate","number":"B-0001","expires_on":"2030-12-31"},
                 {"type":"health_certificate","number":"H-0001","expires_on":"2030-12-31"}]}' >/dev/null

# A community canteen.
canteen=$(organisation 13600000011 "$provider_pw" 花园社区长者食堂 canteen)
call PUT "$providers/v1/providers/me/canteen" "$canteen" '{"delivery_radius_km":3,
  "diet_tags":["low_salt","low_sugar","soft"],"slots":[{"slot":"lunch","meals":120},{"slot":"dinner","meals":80}]}' \
    >/dev/null

# A community nursery with two classes.
nursery_token=$(organisation 13600000021 "$provider_pw" 花园社区托育中心 nursery 京托备-2026-0001)
call PUT "$nursery/v1/nursery/me" "$nursery_token" '{"kind":"community","opens":"07:30","closes":"18:00",
  "licensed_places":40,"affordable_percent":30,
  "prices":{"full_day_fen":12000,"half_day_fen":7000,"hour_fen":2000},
  "classes":[{"band":"12-24","caregivers":3},{"band":"24-36","caregivers":3}]}' >/dev/null

# A staff member of Andingmen street's four communities.
call POST "$identity/v1/admin/users" "$admin" "{\"phone\":\"13500000001\",\"password\":\"$staff_pw\",
  \"role\":\"staff\",\"display_name\":\"社区工作人员\",
  \"communities\":[110101001,110101002,110101003,110101004]}" >/dev/null

umask 077
cat >"$state/secrets/demo" <<EOS
family (elder 王秀英, toddler 王小明)     13700000001  $family_pw
home care 安心居家养老                    13600000001  $provider_pw
  its worker 周阿姨 (bath, cleaning)      13600000002  $worker_pw
canteen 花园社区长者食堂                  13600000011  $provider_pw
nursery 花园社区托育中心                  13600000021  $provider_pw
staff of 110101001–110101004           13500000001  $staff_pw
EOS
touch "$state/seeded"
echo "demo city: seeded (accounts and passwords in .local/secrets/demo)"
