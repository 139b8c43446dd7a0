-- One row per detect_faces face, with its attributes flattened and top_emotion: the
-- (type, confidence) pair of highest confidence, found with reduce over the emotions.
CREATE OR REPLACE VIEW media_image_labels_face_query AS
SELECT
  m.tweetid,
  m.mediaid,
  m.media_url,
  f.confidence AS face_confidence,
  f.agerange.low AS age_low,
  f.agerange.high AS age_high,
  f.gender.value AS gender,
  f.smile.value AS smile,
  f.eyeglasses.value AS eyeglasses,
  f.sunglasses.value AS sunglasses,
  f.beard.value AS beard,
  f.mustache.value AS mustache,
  f.boundingbox AS face_box,
  reduce(
    f.emotions,
    element_at(f.emotions, 1),
    (best, e) -> IF(e.confidence > best.confidence, e, best),
    best -> best
  ) AS top_emotion
FROM media_rekognition m
CROSS JOIN UNNEST(m.image_labels.facedetails) AS u (f)
